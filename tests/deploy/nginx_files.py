"""An /etc/nginx as docs/ADMIN.md leaves it, in a temp dir: Debian's nginx.conf (with
worker_connections raised as the guide says) and the shipped deploy/nginx files."""

from __future__ import annotations

import shutil
from pathlib import Path

from .helpers import DEPLOY

NGINX_DEPLOY = DEPLOY / "nginx"
# Debian 12's /etc/nginx/nginx.conf, less its comments, with the includes under `root`.
DEBIAN_NGINX_CONF = """\
user www-data;
worker_processes auto;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
include {root}/modules-enabled/*.conf;

events {{
\tworker_connections {connections};
}}

http {{
\tsendfile on;
\ttcp_nopush on;
\ttypes_hash_max_size 2048;
\tinclude {root}/mime.types;
\tdefault_type application/octet-stream;
\tssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; # Dropping SSLv3, ref: POODLE
\tssl_prefer_server_ciphers on;
\taccess_log /var/log/nginx/access.log;
\tgzip on;
\tinclude {root}/conf.d/*.conf;
\tinclude {root}/sites-enabled/*;
}}
"""


def install_nginx_config(root: Path, connections: int = 4096) -> Path:
    """The files under ``root``; returns the main file's path."""
    for sub in ("conf.d", "snippets", "sites-available", "sites-enabled", "modules-enabled"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for path in NGINX_DEPLOY.rglob("*"):
        if path.is_file():
            shutil.copy(path, root / path.relative_to(NGINX_DEPLOY))
    (root / "sites-enabled" / "sealdrop").symlink_to(root / "sites-available" / "sealdrop")
    main = root / "nginx.conf"
    main.write_text(DEBIAN_NGINX_CONF.format(root=root, connections=connections))
    return main
