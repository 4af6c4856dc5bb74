#!/bin/sh
# check-cmake.sh BUILD_DIR
#
# Installs the build into a temporary directory and builds a CMake project
# against it with find_package(libintern): one program on
# libintern::libintern (the shared library), one on libintern::static,
# which must run with no libintern.so in sight.
. "$(dirname "$0")/common.sh"
build=$1
command -v cmake >/dev/null 2>&1 || { echo "cmake not installed: skipped"; exit 77; }
# Ninja, which meson brings: a minimal system has no make for CMake's default generator.
work_dir
install_tree "$build"

mkdir -p "$tmp/app"
write_consumer "$tmp/app/app.c"
cat >"$tmp/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.13)
project(consumer C)
find_package(libintern 0.1 REQUIRED)
add_executable(app-shared app.c)
target_link_libraries(app-shared PRIVATE libintern::libintern)
add_executable(app-static app.c)
target_link_libraries(app-static PRIVATE libintern::static)
message(STATUS "libintern ${libintern_VERSION}, generator ${libintern_INTERN_GEN_IDS}")
CM
cmake -G Ninja -S "$tmp/app" -B "$tmp/app/build" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cmake.log" 2>&1 ||
	{ cat "$tmp/cmake.log"; fail "cmake configure"; }
grep -q "libintern 0\." "$tmp/cmake.log" || { cat "$tmp/cmake.log"; fail "no version from the package"; }
cmake --build "$tmp/app/build" >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; fail "cmake build"; }
"$tmp/app/build/app-shared" || fail "app-shared"
"$tmp/app/build/app-static" || fail "app-static"
if ldd "$tmp/app/build/app-static" | grep -q libintern; then
	fail "app-static loads libintern.so"
fi
ldd "$tmp/app/build/app-shared" | grep -q "libintern.so.0 => $libdir" ||
	fail "app-shared does not load the installed libintern.so.0"

# A request for another major version, or a newer one, is refused.
mkdir -p "$tmp/other"
for want in 1.0 0.99; do
	cat >"$tmp/other/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.13)
project(other NONE)
find_package(libintern $want QUIET)
if(libintern_FOUND)
  message(FATAL_ERROR "find_package(libintern $want) accepted \${libintern_VERSION}")
endif()
CM
	cmake -G Ninja -S "$tmp/other" -B "$tmp/other/build-$want" -DCMAKE_PREFIX_PATH="$prefix" \
		>"$tmp/cmake-$want.log" 2>&1 || { cat "$tmp/cmake-$want.log"; fail "version $want"; }
done
echo "CMake consumer: shared and static targets build and run; 1.0 and 0.99 refused"
