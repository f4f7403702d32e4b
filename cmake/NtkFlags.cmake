# SPDX-License-Identifier: BSD-2-Clause
# Warning, hardening and sanitizer flags, carried by the interface target ntk_flags that every
# ntpkit target links. lib/ adds ntk_strict_flags on top (-Wconversion and friends).
include(CheckPIESupported)
check_pie_supported()
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

add_library(ntk_flags INTERFACE)
target_include_directories(ntk_flags INTERFACE "${PROJECT_SOURCE_DIR}/include")
target_compile_options(ntk_flags INTERFACE
  -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wvla -Wpointer-arith
  -Wmissing-prototypes -Wundef -Wcast-qual -Wnull-dereference
  -fstack-protector-strong -fno-strict-aliasing)
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
  # _FORTIFY_SOURCE needs optimisation and adds nothing under ASan, which checks more.
  target_compile_definitions(ntk_flags INTERFACE
    $<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
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
