# Shared helpers for the per-folder CMakeLists.

# dynoherd_library(NAME SOURCES ... PUBLIC_DEPS ... PRIVATE_DEPS ...)
# Defines dynoherd_<NAME> with the alias dynoherd::<NAME>; headers are included as "folder/file.h".
function(dynoherd_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(dynoherd_${name} STATIC ${ARG_SOURCES})
  add_library(dynoherd::${name} ALIAS dynoherd_${name})
  target_include_directories(dynoherd_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(dynoherd_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# dynoherd_test(NAME SOURCES ... DEPS ...)
# A doctest executable registered with CTest. Tests run from the source root so fixtures resolve.
function(dynoherd_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT DYNOHERD_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE dynoherd::test_main doctest::doctest ${ARG_DEPS})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "DYNOHERD_BUILD_DIR=${PROJECT_BINARY_DIR};DYNOHERD_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    TIMEOUT 300)
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()
