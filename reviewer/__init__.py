"""sealdrop's offline reviewer tool. Runs on the air-gapped machine; never opens a socket."""
