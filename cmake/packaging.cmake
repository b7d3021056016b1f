# What `cmake --install` puts where, and the Debian package CPack makes of it (docs/install.md).
#
#   make package    a Release build in build-package/, then build/dynoherd_<version>_amd64.deb
#
# The same rules package the test build's binary in the package_deb test (tests/package/).
include(GNUInstallDirs)

set(DYNOHERD_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/dynoherd)  # Debian's place, whatever the prefix

install(TARGETS dynoherd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The man page, its version filled in and compressed as Debian wants it (docs/man/dynoherd.1.in).
configure_file(docs/man/dynoherd.1.in ${PROJECT_BINARY_DIR}/man/dynoherd.1 @ONLY)
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/man/dynoherd.1.gz
  COMMAND gzip -9nkf dynoherd.1
  DEPENDS ${PROJECT_BINARY_DIR}/man/dynoherd.1
  WORKING_DIRECTORY ${PROJECT_BINARY_DIR}/man
  VERBATIM)
add_custom_target(dynoherd_man ALL DEPENDS ${PROJECT_BINARY_DIR}/man/dynoherd.1.gz)
install(FILES ${PROJECT_BINARY_DIR}/man/dynoherd.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES docs/formationpolicy.schema.json DESTINATION ${CMAKE_INSTALL_DATADIR}/dynoherd)

# The documentation keeps the checkout's layout, so its relative links still resolve.
install(FILES README.md ARCHITECTURE.md cmake/debian/copyright DESTINATION ${DYNOHERD_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${DYNOHERD_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md" PATTERN "images" EXCLUDE PATTERN "man" EXCLUDE)
install(DIRECTORY examples DESTINATION ${DYNOHERD_DOCDIR})
install(CODE "
  set(docs \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${DYNOHERD_DOCDIR}/docs\")
  file(CREATE_LINK ../../../dynoherd/formationpolicy.schema.json
       \"\${docs}/formationpolicy.schema.json\" SYMBOLIC)
")

# The systemd unit of examples/systemd with its commands at the installed binary. It goes to
# Debian's /lib/systemd/system when the prefix is /usr (the package), under the prefix otherwise
# (systemd reads /usr/local/lib/systemd/system too). The package leaves it disabled.
install(CODE "
  set(unit_dir \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(unit_dir /lib/systemd/system)
  endif()
  file(READ \"${PROJECT_SOURCE_DIR}/examples/systemd/dynoherd.service\" unit)
  string(REPLACE /usr/local/bin/dynoherd \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/dynoherd\"
         unit \"\${unit}\")
  file(WRITE \"${PROJECT_BINARY_DIR}/systemd/dynoherd.service\" \"\${unit}\")
  file(INSTALL \"${PROJECT_BINARY_DIR}/systemd/dynoherd.service\" DESTINATION \"\${unit_dir}\"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
")

# --- The Debian package ------------------------------------------------------------------------

# Where the package says it comes from (its Homepage, the runbook links of its alerts): the web
# address of the checkout's `origin` remote, read at every configure, unless set. Without either
# the package has no Homepage and its alerts no runbook links.
set(DYNOHERD_REPOSITORY_URL "" CACHE STRING
    "Web address of the dynoherd repository this is built from (empty: the origin remote's)")
set(DYNOHERD_HOMEPAGE "${DYNOHERD_REPOSITORY_URL}")
if(NOT DYNOHERD_HOMEPAGE)
  include(${CMAKE_CURRENT_LIST_DIR}/repository_url.cmake)
  dynoherd_origin_web_url(${PROJECT_SOURCE_DIR} DYNOHERD_HOMEPAGE)
endif()

# The Maintainer field: Debian's DEBFULLNAME and DEBEMAIL when set, as dch and dh_make read them.
if(NOT DEFINED DYNOHERD_PACKAGE_MAINTAINER)
  set(maintainer "dynoherd maintainers <dynoherd@localhost>")
  if(DEFINED ENV{DEBFULLNAME} AND DEFINED ENV{DEBEMAIL})
    set(maintainer "$ENV{DEBFULLNAME} <$ENV{DEBEMAIL}>")
  endif()
  set(DYNOHERD_PACKAGE_MAINTAINER "${maintainer}" CACHE STRING "The package's Maintainer field")
endif()

# The installed alerts link to the runbook of the repository and the commit installed (the tag
# v<version> when there is no git history).
if(DYNOHERD_HOMEPAGE)
  find_package(Git QUIET)
  install(CODE "
    include(\"${PROJECT_SOURCE_DIR}/cmake/runbook_url.cmake\")
    set(ref v${PROJECT_VERSION})
    execute_process(COMMAND \"${GIT_EXECUTABLE}\" -C \"${PROJECT_SOURCE_DIR}\" rev-parse HEAD
                    OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                    RESULT_VARIABLE failed)
    if(NOT failed AND head)
      set(ref \"\${head}\")
    endif()
    dynoherd_set_runbook_url(
      \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${DYNOHERD_DOCDIR}/examples/prometheus/alerts.yaml\"
      \"${DYNOHERD_HOMEPAGE}\" \"\${ref}\")
  ")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dynoherd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# CPack installs into its staging directory through DESTDIR, so that the install rules see the
# real prefix (/usr) and /lib/systemd/system lands in the package, not outside it.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # dynoherd_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${DYNOHERD_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${DYNOHERD_HOMEPAGE}")
# The shared libraries the binary links, found by dpkg-shlibdeps; plus the CA certificates that
# every HTTPS call (the Platform API) needs and no library depends on.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS ca-certificates)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "reconciling operator for Heroku formations")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "dynoherd keeps Heroku formations as FormationPolicy files declare them: it
restarts laggard dynos (far slower than their siblings, usually because of a
noisy neighbour), adds dynos for the duration of a latency event and puts the
formation back afterwards, through the Heroku Platform API. Per-dyno latency
comes from Heroku's router logs (log sessions or HTTPS log drains) or from
Prometheus. It runs as a daemon exporting Prometheus metrics, or one pass at a
time from cron or CI (plan, reconcile), and validates policies offline.

The package holds the binary, its man page, a hardened systemd unit (not
enabled), the FormationPolicy JSON Schema, the documentation and the examples.")
# postinst, prerm and postrm: systemd told of the unit, a running service restarted on upgrade and
# stopped on removal; nothing is enabled or started.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/postinst
    ${PROJECT_SOURCE_DIR}/cmake/debian/prerm
    ${PROJECT_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
