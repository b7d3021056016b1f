# Shared helpers for the per-folder CMakeLists.

# dynoherd_library(NAME SOURCES ... PUBLIC_DEPS ... PRIVATE_DEPS ...)
# Defines dynoherd_<NAME> with the alias dynoherd::<NAME>; headers are included as "folder/file.h".
function(dynoherd_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(dynoherd_${name} STATIC ${ARG_SOURCES})
  add_library(dynoherd::${name} ALIAS dynoherd_${name})
  target_include_directories(dynoherd_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(dynoherd_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  dynoherd_unity(dynoherd_${name})
endfunction()

# dynoherd_unity(TARGET): batches of files per translation unit when DYNOHERD_UNITY_BUILD is on.
function(dynoherd_unity target)
  set_target_properties(${target} PROPERTIES
    UNITY_BUILD ${DYNOHERD_UNITY_BUILD}
    UNITY_BUILD_BATCH_SIZE 8)
endfunction()

# dynoherd_test(NAME SOURCES ... [OWN_UNIT ...] DEPS ...)
# A doctest executable registered with CTest. Tests run from the source root so fixtures resolve.
# OWN_UNIT files stay out of the unity batches: each keeps file-local helpers named like a
# sibling's (a Harness, a kNow), which is clearer in a test than a prefix on every name.
function(dynoherd_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;OWN_UNIT;DEPS;LABELS" ${ARGN})
  if(NOT DYNOHERD_BUILD_TESTS)
    return()
  endif()
  set_source_files_properties(${ARG_OWN_UNIT} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  add_executable(${name} ${ARG_SOURCES} ${ARG_OWN_UNIT})
  target_link_libraries(${name} PRIVATE dynoherd::test_main doctest::doctest ${ARG_DEPS})
  dynoherd_unity(${name})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "DYNOHERD_BUILD_DIR=${PROJECT_BINARY_DIR};DYNOHERD_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    TIMEOUT 300)
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()
