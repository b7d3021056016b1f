# dynoherd_set_runbook_url(FILE REPOSITORY_URL REF): sets the runbook's address in a copy of
# examples/prometheus/alerts.yaml (the url of its rule dynoherd_runbook_info, empty there) to
# docs/operations.md of the repository at REF, as GitHub, GitLab and Gitea show it. Also a script:
#   cmake -DFILE=alerts.yaml -DREPOSITORY_URL=https://github.com/acme/dynoherd -DREF=v0.1.0 \
#         -P cmake/runbook_url.cmake
function(dynoherd_set_runbook_url file repository_url ref)
  file(READ "${file}" text)
  string(FIND "${text}" "url: \"\"" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${file}: no empty `url: \"\"` (the runbook's address) to set")
  endif()
  string(REPLACE "url: \"\"" "url: \"${repository_url}/blob/${ref}/docs/operations.md\"" text
         "${text}")
  file(WRITE "${file}" "${text}")
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  dynoherd_set_runbook_url("${FILE}" "${REPOSITORY_URL}" "${REF}")
endif()
