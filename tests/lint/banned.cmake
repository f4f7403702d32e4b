# SPDX-License-Identifier: BSD-2-Clause
# Lint: no banned function is called anywhere (STYLE.md §3.6), and every .c file includes
# "poison.h" as its last #include so the compiler enforces the same list.
# Run as: cmake -DSRC=<source dir> -P banned.cmake
set(banned strcpy strncpy strcat strncat sprintf vsprintf gets strtok sscanf atoi atol
    gmtime localtime ctime asctime gettimeofday select)
file(GLOB_RECURSE files LIST_DIRECTORIES false
  "${SRC}/lib/*.[ch]" "${SRC}/include/*.[ch]" "${SRC}/daemon/*.[ch]" "${SRC}/cli/*.[ch]"
  "${SRC}/exporters/*.[ch]" "${SRC}/tests/*.[ch]" "${SRC}/bench/*.[ch]")
set(failures 0)
foreach(f IN LISTS files)
  file(RELATIVE_PATH rel "${SRC}" "${f}")
  if(rel STREQUAL "include/poison.h")
    continue()
  endif()
  file(READ "${f}" text)
  # Drop comments and string literals so prose ("select a source") is not a hit.
  string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" " " code "${text}")
  string(REGEX REPLACE "//[^\n]*" " " code "${code}")
  string(REGEX MATCHALL "#[ \t]*include[ \t]*[<\"][^>\"]+[>\"]" incs "${code}")
  string(REGEX REPLACE "\"([^\"\\\\\n]|\\\\.)*\"" "\"\"" code "${code}")
  foreach(fn IN LISTS banned)
    if(code MATCHES "(^|[^A-Za-z0-9_.>])${fn}[ \t]*\\(")
      message(SEND_ERROR "${rel}: calls banned function ${fn}() (STYLE.md §3.6)")
      math(EXPR failures "${failures} + 1")
    endif()
  endforeach()
  if(f MATCHES "\\.c$")
    list(LENGTH incs n)
    if(n EQUAL 0)
      continue()
    endif()
    list(GET incs -1 last)
    if(NOT last MATCHES "poison\\.h")
      message(SEND_ERROR "${rel}: the last #include must be \"poison.h\" (found ${last})")
      math(EXPR failures "${failures} + 1")
    endif()
  endif()
endforeach()
list(LENGTH files nfiles)
if(failures GREATER 0)
  message(FATAL_ERROR "banned-function lint: ${failures} problem(s) in ${nfiles} files")
endif()
message(STATUS "banned-function lint: ${nfiles} files clean")
