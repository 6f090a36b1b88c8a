# bh_rootfs DIR WHO: a busybox root filesystem in DIR for test containers
# (images are imported from it: no registry is reachable). It holds the
# applets the tests use, an index page (/www) and two scripts:
#   /bin/hit           the server side of one connection: logs the
#                      client's first line to /hits/$SRV, answers "hello"
#   /bin/probe TARGET  from the container's first instant, one connection
#                      to each IP:PORT every 100 ms for 3 s, then sleeps;
#                      each says $WHO (the variable naming the container)
# Needs $BB, a static busybox.
bh_rootfs() {
	local dir=$1 who=$2 a
	mkdir -p "$dir"/{bin,www,hits,tmp}
	cp "$BB" "$dir/bin/busybox"
	for a in sh sleep nc httpd cat echo printf timeout ip seq true; do
		ln -s busybox "$dir/bin/$a"
	done
	echo "hello from web" >"$dir/www/index.html"
	cat >"$dir/bin/hit" <<'EOS'
#!/bin/sh
read -r who
echo "$who" >>"/hits/$SRV"
echo "hello from $SRV"
EOS
	cat >"$dir/bin/probe" <<EOS
#!/bin/sh
for i in \$(seq 1 30); do
	for t in "\$@"; do echo "\$$who" | nc -w 1 "\${t%:*}" "\${t#*:}" >/dev/null 2>&1 & done
	sleep 0.1
done
wait
exec sleep 600
EOS
	chmod +x "$dir/bin/hit" "$dir/bin/probe"
}
