# SPDX-License-Identifier: BSD-2-Clause
# CPack: `cpack -G DEB` in a build directory makes ntpkit_<version>_<arch>.deb for Debian 12
# (prefix /usr whatever the build's prefix), a time-daemon like ntpsec's and chrony's: it
# provides, conflicts with and replaces time-daemon, creates the ntpkit user (postinst) and
# enables ntpd.service. Depends comes from dpkg-shlibdeps plus what the scripts run.
set(CPACK_PACKAGE_NAME ntpkit)
set(CPACK_PACKAGE_VENDOR "ntpkit")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "secure NTP toolkit: ntpd, ntpq, ntpmon, ntpdig, ntpcap")
set(CPACK_PACKAGE_DESCRIPTION
  "ntpkit keeps and serves time with NTP and NTS (RFC 8915), reads NTPsec's ntp.conf and
command line, and brings NTPsec's tools rewritten in C: ntpq, ntpmon, ntpdig, a traffic
analyzer (ntpcap) and a Prometheus exporter, with the library libntk.")
set(CPACK_PACKAGE_CONTACT "ntpkit maintainers <ntpkit@example.org>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_GENERATOR DEB)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # ntpkit_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE "")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/ntpkit/ntpkit")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# shlibdeps finds the libraries of the programs, but the private libntk.so.0 is in the
# package itself: tell dpkg-shlibdeps where it is.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${CMAKE_BINARY_DIR}/lib")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# The maintainer scripts run adduser and deb-systemd-helper; the leap file comes with tzdata.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, tzdata")
set(CPACK_DEBIAN_PACKAGE_PREDEPENDS "init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bash-completion")
# One time daemon at a time (Debian policy's virtual package, as ntpsec, chrony and
# systemd-timesyncd do); ntpsec-ntpdig ships /usr/bin/ntpdig and ntp /etc/ntp.conf.
set(CPACK_DEBIAN_PACKAGE_PROVIDES "time-daemon")
set(CPACK_DEBIAN_PACKAGE_CONFLICTS "time-daemon, ntp, ntpsec, ntpsec-ntpdig, ntpsec-ntpdate, chrony, openntpd")
set(CPACK_DEBIAN_PACKAGE_REPLACES "time-daemon, ntp, ntpsec, ntpsec-ntpdig, ntpsec-ntpdate")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${PROJECT_SOURCE_DIR}/packaging/debian/postinst;${PROJECT_SOURCE_DIR}/packaging/debian/prerm;${PROJECT_SOURCE_DIR}/packaging/debian/postrm;${PROJECT_SOURCE_DIR}/packaging/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
