# dynoherd_origin_web_url(SOURCE_DIR OUT): the web address of the checkout's `origin` remote
# (https://host/owner/repo), credentials and ".git" dropped; empty when there is no such remote or
# it is not on a web host (a local path). Also a script, for tests:
#   cmake -DSOURCE_DIR=. -P cmake/repository_url.cmake      prints the address
function(dynoherd_origin_web_url source_dir out)
  set(url "")
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${source_dir}" remote get-url origin
                    OUTPUT_VARIABLE remote OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                    RESULT_VARIABLE failed)
    if(NOT failed)
      dynoherd_web_url("${remote}" url)
    endif()
  endif()
  set(${out} "${url}" PARENT_SCOPE)
endfunction()

# dynoherd_web_url(REMOTE OUT): git@host:o/r.git, ssh://git@host/o/r.git and
# https://user:token@host/o/r.git all give https://host/o/r; anything else gives "".
function(dynoherd_web_url remote out)
  set(url "")
  if(remote MATCHES "^[a-z+]+://([^/@]+@)?([^/:]+)(:[0-9]+)?/(.+)$")
    set(host "${CMAKE_MATCH_2}")
    set(path "${CMAKE_MATCH_4}")
  elseif(remote MATCHES "^([^/@]+@)?([^/:]+):([^/].*)$")
    set(host "${CMAKE_MATCH_2}")
    set(path "${CMAKE_MATCH_3}")
  endif()
  if(DEFINED host AND NOT host STREQUAL "localhost" AND NOT remote MATCHES "^file:")
    string(REGEX REPLACE "/+$" "" path "${path}")
    string(REGEX REPLACE "\\.git$" "" path "${path}")
    set(url "https://${host}/${path}")
  endif()
  set(${out} "${url}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(DEFINED REMOTE)
    dynoherd_web_url("${REMOTE}" url)
  else()
    dynoherd_origin_web_url("${SOURCE_DIR}" url)
  endif()
  message("${url}")
endif()
