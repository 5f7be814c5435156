#!/usr/bin/env bash
# setup.sh - Gradescope runs this once, as root, when it builds the autograder's image from
# the zip that `make gradescope` writes.  The zip is unpacked in /autograder/source (this
# file's directory), which is the course itself: labs/, harness/, the Makefile.
#
# It installs what grading needs from the distribution's packages, then proves the result
# works: harness/deps finds nothing missing, and every starter builds.  Any failure stops
# the build with a message, so that a broken image is seen when the instructor uploads the
# zip, not when the first student submits.
#
# Ubuntu 22.04 (Gradescope's default base image) packages bats 1.2.1 and neither
# bats-support nor bats-assert; the tests need bats_load_library (bats 1.7 or later) and
# both libraries.  When the packages do not give a working set, this installs bats-core and
# the two libraries from the npm registry (their authors publish them there): bats and
# bats-support at the versions Debian 12 ships and the course is tested with, bats-assert
# 2.2.0 (npm has no 2.1.0, Debian 12's).  Ubuntu 24.04 packages them all.
#
# SETUP_BATS_FROM_NPM=1 takes bats from npm even where the packages would do: a way to try
# that path on a machine whose packages are recent (Debian 12), before Gradescope does.
set -u

src=$(cd "$(dirname "$0")" && pwd)
BATS_VERSION=1.8.2
BATS_SUPPORT_VERSION=0.3.0
BATS_ASSERT_VERSION=2.2.0
export DEBIAN_FRONTEND=noninteractive

say() { printf 'setup: %s\n' "$*"; }
die() {
	printf 'setup: FAILED: %s\n' "$*" >&2
	exit 1
}

# What harness/deps checks for, by Debian/Ubuntu package name, plus certificates for npm.
want=(make gcc libc6-dev libssl-dev openssl python3 python3-pytest python3-hypothesis parallel
	bats bats-support bats-assert ca-certificates)

# bats_works: can bats load both libraries the way harness/lab.bash does?
bats_works() {
	local dir rc
	command -v bats >/dev/null 2>&1 || return 1
	dir=$(mktemp -d) || return 1
	cat >"$dir/check.bats" <<-'EOF'
		bats_require_minimum_version 1.5.0
		bats_load_library bats-support
		bats_load_library bats-assert
		@test "the libraries load" { assert_equal 1 1; }
	EOF
	BATS_LIB_PATH=/usr/lib/bats bats "$dir/check.bats" >/dev/null 2>&1
	rc=$?
	rm -rf "$dir"
	return $rc
}

. /etc/os-release 2>/dev/null && say "on ${PRETTY_NAME:-an unknown system}"
apt-get update -q || die "apt-get update"

# Install every wanted package this release has; say which it lacks instead of failing on them
# (apt-get install fails whole if one name is unknown).
have=() lack=()
for p in "${want[@]}"; do
	if apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]'; then have+=("$p"); else lack+=("$p"); fi
done
((${#lack[@]} == 0)) || say "not packaged in this release: ${lack[*]}"
apt-get install -y -q --no-install-recommends "${have[@]}" || die "apt-get install ${have[*]}"

if [[ -z ${SETUP_BATS_FROM_NPM:-} ]] && bats_works; then
	say "bats $(bats --version | cut -d' ' -f2) with bats-support and bats-assert, from the packages"
else
	say "${SETUP_BATS_FROM_NPM:+SETUP_BATS_FROM_NPM is set; }the packaged bats cannot (or may not) load" \
		"bats-support and bats-assert; installing bats $BATS_VERSION," \
		"bats-support $BATS_SUPPORT_VERSION and bats-assert $BATS_ASSERT_VERSION from npm"
	apt-get install -y -q --no-install-recommends nodejs npm || die "apt-get install nodejs npm"
	# An old /usr/bin/bats must not stay on PATH beside the new /usr/local/bin/bats.
	if dpkg -s bats >/dev/null 2>&1; then
		apt-get remove -y -q bats || die "apt-get remove bats"
	fi
	modules=/usr/local/lib/node_modules
	npm install -g --prefix /usr/local "bats@$BATS_VERSION" "bats-support@$BATS_SUPPORT_VERSION" \
		"bats-assert@$BATS_ASSERT_VERSION" || die "npm install bats bats-support bats-assert"
	# npm links no command for bats (its package declares a bin directory, which npm ignores);
	# bats-core's own installer puts bats, its libexec and lib in /usr/local.
	"$modules/bats/install.sh" /usr/local || die "bats' install.sh"
	# harness/bats-run looks for the libraries in /usr/lib/bats, where Debian puts them.
	mkdir -p /usr/lib/bats || die "mkdir /usr/lib/bats"
	for lib in bats-support bats-assert; do
		[[ -e /usr/lib/bats/$lib ]] || ln -s "$modules/$lib" "/usr/lib/bats/$lib" ||
			die "cannot link /usr/lib/bats/$lib"
	done
	hash -r
	bats_works || die "bats from npm still cannot load its libraries"
	say "bats $(bats --version | cut -d' ' -f2) from npm"
fi

# An unzip that drops the modes would leave the scripts unrunnable; autograder.conf lists them.
sed -n 's/^exec=//p' "$src/autograder.conf" | while IFS= read -r f; do
	chmod 755 "$src/$f" || die "chmod $f"
done
# Gradescope runs /autograder/run_autograder; it copies ours there, and so do we, in case.
if [[ $src == /autograder/source ]]; then
	install -m 755 "$src/run_autograder" /autograder/run_autograder || die "cannot install run_autograder"
fi

# The proof: nothing missing by the course's own check, and the starters compile.
"$src/harness/deps" || die "harness/deps still finds packages missing (see above)"
make -C "$src" -s build IMPL=starter || die "the starters do not build"
rm -rf "$src/build"
say "done: course $(sed -n 's/^version=//p' "$src/autograder.conf"), labs: $(sed -n 's/^labs=//p' "$src/autograder.conf" | grep . || echo all)"
