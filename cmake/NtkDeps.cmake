# SPDX-License-Identifier: BSD-2-Clause
# Every dependency comes through pkg-config; a missing one stops configure and names the
# Debian package that provides it.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

# ntk_require(<prefix> <pkg-config module> <debian package>) imports PkgConfig::<prefix>.
function(ntk_require prefix module debpkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR
      "ntpkit needs ${module} (pkg-config) but it was not found: apt-get install ${debpkg}")
  endif()
  message(STATUS "Found ${module} ${${prefix}_VERSION}")
endfunction()

ntk_require(LIBCRYPTO "libcrypto>=3.0" libssl-dev)
ntk_require(LIBSSL "libssl>=3.0" libssl-dev)
ntk_require(JSONC "json-c>=0.15" libjson-c-dev)
ntk_require(LIBCAP "libcap>=2.25" libcap-dev)
ntk_require(LIBMHD "libmicrohttpd>=0.9.70" libmicrohttpd-dev)
ntk_require(NCURSESW "ncursesw>=6" libncurses-dev)
ntk_require(LIBPCAP "libpcap>=1.10" libpcap-dev)
ntk_require(LIBCURL "libcurl>=7.85" libcurl4-openssl-dev)
if(NTK_TESTS)
  ntk_require(CMOCKA "cmocka>=1.1" libcmocka-dev)
endif()
