"""`sealdrop-verify`: checks, from outside, that an onion service serves what its organisation
signed. Base install only (the standard library's HTTP client over a small SOCKS5 client);
never part of the reviewer tool, which opens no sockets."""
