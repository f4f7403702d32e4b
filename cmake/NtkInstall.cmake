# SPDX-License-Identifier: BSD-2-Clause
# Install layout beyond each program's own install(TARGETS) rule: the CMake package config of
# libntk (find_package(ntk): ntk::ntk, ntk::ntk_static), the sample ntp.conf, the systemd
# units and sysusers.d file, bash completions and ntpkit-wait. Files that name installed
# paths (the units, ntk.pc, ntpkit-wait) are generated at install time from the prefix then in force, so that
# `cpack -G DEB` (prefix /usr) and `cmake --install --prefix P` both get the right paths.
include(CMakePackageConfigHelpers)

set(NTK_PKG_DIR "${PROJECT_SOURCE_DIR}/packaging")
set(NTK_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/ntk")
# Chosen at install time from the prefix then in force (empty cache values): /etc and
# /lib/systemd/system for prefix /usr (Debian 12, the .deb), else <prefix>/etc and
# <prefix>/lib/systemd/system (systemd reads /usr/local/lib/systemd/system too), so that an
# install into a scratch prefix never writes outside it.
set(NTK_INSTALL_SYSCONFDIR "" CACHE PATH "Where ntp.conf and default/ntpkit go (empty: by prefix)")
set(NTK_SYSTEMD_UNITDIR "" CACHE PATH "systemd system unit directory (empty: by prefix)")
set(_ntk_pick_dirs "
  set(_confdir \"${NTK_INSTALL_SYSCONFDIR}\")
  if(NOT _confdir AND CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_confdir /etc)
  elseif(NOT _confdir)
    set(_confdir \"\${CMAKE_INSTALL_PREFIX}/etc\")
  endif()
  set(_unitdir \"${NTK_SYSTEMD_UNITDIR}\")
  if(NOT _unitdir AND CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_unitdir /lib/systemd/system)
  elseif(NOT _unitdir)
    set(_unitdir \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
  endif()")

# ntpd.service is Type=notify: ntpd sends READY=1 itself (daemon/io/sdnotify.c, called from
# daemon.c at the first clock update, at once in observe mode, or after a minute without).
set(NTK_UNIT_TYPE notify)

# libntk's CMake package: targets exported by lib/CMakeLists.txt (EXPORT ntkTargets).
install(EXPORT ntkTargets NAMESPACE ntk:: DESTINATION "${NTK_INSTALL_CMAKEDIR}")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/ntkConfig.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/ntkConfig.cmake" INSTALL_DESTINATION "${NTK_INSTALL_CMAKEDIR}")
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/ntkConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/ntkConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/ntkConfigVersion.cmake"
  DESTINATION "${NTK_INSTALL_CMAKEDIR}")

# Configuration: conffiles in the .deb; a plain install never overwrites an existing file
# (it installs <file>.ntpkit-dist beside it instead).
foreach(_conf "ntp.conf;ntp.conf" "default/ntpkit;default/ntpkit")
  list(GET _conf 0 _src)
  list(GET _conf 1 _dst)
  get_filename_component(_sub "${_dst}" DIRECTORY)
  get_filename_component(_name "${_dst}" NAME)
  install(CODE "${_ntk_pick_dirs}
    set(_dir \"\${_confdir}/${_sub}\")
    if(EXISTS \"\$ENV{DESTDIR}\${_dir}/${_name}\")
      message(STATUS \"Keeping \$ENV{DESTDIR}\${_dir}/${_name}: new one as ${_name}.ntpkit-dist\")
      file(INSTALL \"${NTK_PKG_DIR}/${_src}\" DESTINATION \"\${_dir}\"
        RENAME \"${_name}.ntpkit-dist\" FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    else()
      file(INSTALL \"${NTK_PKG_DIR}/${_src}\" DESTINATION \"\${_dir}\"
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    endif()")
endforeach()

# bash completions, one file per program, loaded on demand by bash-completion.
install(FILES ${NTK_PKG_DIR}/bash-completion/ntpq ${NTK_PKG_DIR}/bash-completion/ntpdig
  ${NTK_PKG_DIR}/bash-completion/ntpmon ${NTK_PKG_DIR}/bash-completion/ntpcap
  DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions")
if(TARGET ntpleapfetch)
  install(FILES ${NTK_PKG_DIR}/bash-completion/ntpleapfetch
    DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions")
endif()

# The ntpkit user, for systemd-sysusers (sysusers.d(5) lives in lib/, not the multiarch libdir).
install(FILES ${NTK_PKG_DIR}/sysusers.d/ntpkit.conf DESTINATION lib/sysusers.d)

# Generated at install time: the units and ntpkit-wait name the installed programs.
set(_ntk_units ntpd.service ntpkit-wait.service)
if(TARGET ntpkit_exporter)
  list(APPEND _ntk_units ntpkit_exporter.service)
endif()
set(_ntk_timers)
if(TARGET ntpleapfetch)
  list(APPEND _ntk_units ntpkit-leapfetch.service)
  list(APPEND _ntk_timers ntpkit-leapfetch.timer)
endif()
set(_gen "${CMAKE_CURRENT_BINARY_DIR}/packaging")
install(CODE "
  # One scratch directory per destination: concurrent installs (the package tests, cpack)
  # never write the same generated file.
  string(MD5 _h \"\$ENV{DESTDIR}|\${CMAKE_INSTALL_PREFIX}\")
  set(_gen \"${_gen}/\${_h}\")
  set(NTK_UNIT_TYPE ${NTK_UNIT_TYPE})
  set(NTK_SBINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}\")
  set(NTK_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(NTK_LIBEXECDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBEXECDIR}\")
  ${_ntk_pick_dirs}
  foreach(_u ${_ntk_units})
    configure_file(\"${NTK_PKG_DIR}/systemd/\${_u}.in\" \"\${_gen}/\${_u}\" @ONLY)
    file(INSTALL \"\${_gen}/\${_u}\" DESTINATION \"\${_unitdir}\"
      FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endforeach()
  foreach(_t ${_ntk_timers})
    file(INSTALL \"${NTK_PKG_DIR}/systemd/\${_t}\" DESTINATION \"\${_unitdir}\"
      FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endforeach()
  configure_file(\"${NTK_PKG_DIR}/ntpkit-wait.sh\" \"\${_gen}/ntpkit-wait\" @ONLY)
  file(INSTALL \"\${_gen}/ntpkit-wait\" DESTINATION \"\${NTK_LIBEXECDIR}/ntpkit\"
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)
  file(REMOVE_RECURSE \"\${_gen}\")
  # ntk.pc (lib/) was configured with the configure-time prefix: rewrite its prefix line.
  set(_pc \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/ntk.pc\")
  if(EXISTS \"\${_pc}\")
    file(READ \"\${_pc}\" _text)
    string(REGEX REPLACE \"^prefix=[^\\n]*\" \"prefix=\${CMAKE_INSTALL_PREFIX}\" _text \"\${_text}\")
    file(WRITE \"\${_pc}\" \"\${_text}\")
  endif()")
