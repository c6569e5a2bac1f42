# embers_selector: PromQL-style label selectors (selector.h). Kept as its own target in a snippet
# so it can be included from src/model/CMakeLists.txt (`include(selector.cmake)`) and, until that
# is done, from its first user (src/metastore); the guard makes a second include a no-op.
include_guard(GLOBAL)

find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)

add_library(embers_selector STATIC ${CMAKE_CURRENT_LIST_DIR}/selector.cc)
target_link_libraries(embers_selector PUBLIC embers_base PRIVATE PkgConfig::RE2)

embers_test(NAME selector_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/selector_test.cpp
  LIBS embers_selector)
