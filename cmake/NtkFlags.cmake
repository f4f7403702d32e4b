# SPDX-License-Identifier: BSD-2-Clause
# Warning, hardening and sanitizer flags, carried by the interface target ntk_flags that every
# ntpkit target links. lib/ adds ntk_strict_flags on top (-Wconversion and friends).
# Hardening flags go through check_c_compiler_flag so gcc and clang (fuzz build) both configure;
# tests/lint/hardening.sh checks what of it can be seen in the ELF files.
include(CheckPIESupported)
include(CheckCCompilerFlag)
include(CheckCSourceCompiles)
check_pie_supported()
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

add_library(ntk_flags INTERFACE)
target_include_directories(ntk_flags INTERFACE "${PROJECT_SOURCE_DIR}/include")
target_compile_options(ntk_flags INTERFACE
  -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wvla -Wpointer-arith
  -Wmissing-prototypes -Wundef -Wcast-qual -Wnull-dereference
  -fstack-protector-strong -fno-strict-aliasing)
# Stack clash: probe every page of large stack allocations so the guard page cannot be skipped.
# CET (x86-64 only): IBT landing pads and shadow-stack marking, shown by readelf -n.
foreach(_ntk_flag IN ITEMS -fstack-clash-protection -fcf-protection=full)
  string(MAKE_C_IDENTIFIER "NTK_HAVE${_ntk_flag}" _ntk_var)
  check_c_compiler_flag(${_ntk_flag} ${_ntk_var})
  if(${_ntk_var})
    target_compile_options(ntk_flags INTERFACE ${_ntk_flag})
  endif()
endforeach()
target_compile_definitions(ntk_flags INTERFACE _GNU_SOURCE)
if(NTK_WERROR)
  target_compile_options(ntk_flags INTERFACE -Werror)
endif()

# Full RELRO and a non-executable stack on everything we link.
target_link_options(ntk_flags INTERFACE -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack)

if(NTK_SANITIZE)
  string(REPLACE "," ";" _ntk_sans "${NTK_SANITIZE}")
  foreach(s IN LISTS _ntk_sans)
    target_compile_options(ntk_flags INTERFACE -fsanitize=${s})
    target_link_options(ntk_flags INTERFACE -fsanitize=${s})
  endforeach()
  target_compile_options(ntk_flags INTERFACE -fno-omit-frame-pointer -fno-sanitize-recover=all)
else()
  # _FORTIFY_SOURCE needs optimisation and adds nothing under ASan, which checks more. Level 3
  # (glibc >= 2.34 with gcc >= 12 or clang >= 9) also checks sizes known only at run time
  # (__builtin_dynamic_object_size); else level 2. The probe includes poison.h as every .c
  # does: with clang, glibc's fortified headers define sprintf and others as macros, which
  # poison.h therefore leaves alone (poisoning a macro is a warning no -Wno- option silences).
  set(_ntk_fortify 0)
  foreach(level IN ITEMS 3 2)
    set(CMAKE_REQUIRED_FLAGS "-O2 -Werror -D_FORTIFY_SOURCE=${level}")
    set(CMAKE_REQUIRED_INCLUDES "${PROJECT_SOURCE_DIR}/include")
    set(CMAKE_REQUIRED_DEFINITIONS -DNTK_LEVEL=${level})
    check_c_source_compiles([=[
#include <stdio.h>
#include <string.h>
#if !defined(__USE_FORTIFY_LEVEL) || __USE_FORTIFY_LEVEL != NTK_LEVEL
#error glibc does not apply this _FORTIFY_SOURCE level with this compiler
#endif
#include "poison.h"
int main(void) { return 0; }
]=] NTK_HAVE_FORTIFY_POISON${level})
    unset(CMAKE_REQUIRED_FLAGS)
    unset(CMAKE_REQUIRED_INCLUDES)
    unset(CMAKE_REQUIRED_DEFINITIONS)
    if(NTK_HAVE_FORTIFY_POISON${level})
      set(_ntk_fortify ${level})
      break()
    endif()
  endforeach()
  # tests/lint/hardening.sh reads it to know whether __*_chk imports must be there.
  set(NTK_FORTIFY_LEVEL ${_ntk_fortify} CACHE INTERNAL "_FORTIFY_SOURCE level in effect")
  if(_ntk_fortify GREATER 0)
    target_compile_definitions(ntk_flags INTERFACE
      $<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=${_ntk_fortify}>)
  endif()
endif()

if(NTK_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NTK_FUZZ=ON needs clang: cmake -DCMAKE_C_COMPILER=clang")
  endif()
  # Everything is instrumented for coverage; only the fuzz executables link the driver.
  target_compile_options(ntk_flags INTERFACE -fsanitize=fuzzer-no-link)
endif()

# lib/ is the code every byte from outside goes through: it also gets -Wconversion.
# -Wsign-conversion is left out: with -Wconversion on it mostly flags size_t/int index
# arithmetic that the cursor API already bounds, and the noise hides the real findings.
add_library(ntk_strict_flags INTERFACE)
target_compile_options(ntk_strict_flags INTERFACE -Wconversion -Wdouble-promotion
  -Wwrite-strings -Wredundant-decls)
