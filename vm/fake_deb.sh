# vm/fake_deb.sh - fake Debian packages for the harness's tests (sourced by
# vm/lib_lines_test.sh and vm/lib_trixie_test.sh, never run).
# mkdeb NAME: build $tmp/NAME.deb (version $ver) from the tree $tmp/root-NAME.
mkdeb() {
	local r=$tmp/root-$1
	mkdir -p "$r/DEBIAN"
	printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: fake\n' "$1" "$ver" \
		>"$r/DEBIAN/control"
	dpkg-deb -b "$r" "$tmp/$1.deb" >/dev/null
}
