# Test registration, in the manner of syslog-ng's add_unit_test():
# every tests/unit/<module>/test_<file>.c and tests/integration/test_*.c is
# one criterion binary, registered with ctest under its module's label.
# Each test is told where the built programs and the source tree are.
if(NOT CRITERION_FOUND)
	message(FATAL_ERROR "criterion not found: run scripts/bootstrap")
endif()

file(GLOB TESTLIB_SRC CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/lib/*.c)
add_library(jitca_testlib STATIC ${TESTLIB_SRC})
target_include_directories(jitca_testlib PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(jitca_testlib PUBLIC jitca_signer PkgConfig::CRITERION)

set(JITCA_TEST_ENV
	"JITCAD=$<TARGET_FILE:jitcad>"
	"JITCA_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
	"JITCA_BUILD_DIR=${PROJECT_BINARY_DIR}"
	"ASAN_OPTIONS=abort_on_error=0:strict_string_checks=1"
	"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
list(APPEND JITCA_TEST_ENV "JITCA=$<TARGET_FILE:jitca>")

function(add_unit_test src label)
	get_filename_component(name ${src} NAME_WE)
	set(target "${label}_${name}")
	add_executable(${target} ${src})
	target_link_libraries(${target} PRIVATE jitca_testlib ${ARGN})
	if(LIBSSH_FOUND)
		target_link_libraries(${target} PRIVATE PkgConfig::LIBSSH)
	endif()
	# Two criterion jobs unless UNIT_TEST_JOBS_<target> says otherwise.
	set(jobs 2)
	if(DEFINED UNIT_TEST_JOBS_${target})
		set(jobs ${UNIT_TEST_JOBS_${target}})
	endif()
	add_test(NAME ${target} COMMAND ${target} --jobs ${jobs})
	set_tests_properties(${target} PROPERTIES LABELS ${label}
		ENVIRONMENT "${JITCA_TEST_ENV}" TIMEOUT 600)
	add_dependencies(${target} jitcad jitca jitca_docs)
endfunction()

file(GLOB UNIT_SIGNER CONFIGURE_DEPENDS
	${PROJECT_SOURCE_DIR}/tests/unit/signer/test_*.c)
foreach(t ${UNIT_SIGNER})
	add_unit_test(${t} signer jitca_signer)
endforeach()

file(GLOB UNIT_CA CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/unit/ca/test_*.c
	${PROJECT_SOURCE_DIR}/tests/unit/ca/store/test_*.c)
foreach(t ${UNIT_CA})
	add_unit_test(${t} ca ${JITCAD_LIBS})
endforeach()

# test_oidc's tests each run a real OIDC provider (node) and some a
# chromium for seconds; with two jobs, criterion 2.4's own runner process
# leaks 48 bytes now and then (LeakSanitizer reports it after the
# synthesis, with no test's code on the stack), so it runs one at a time.
set(UNIT_TEST_JOBS_web_test_oidc 1)
file(GLOB UNIT_WEB CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/unit/web/test_*.c)
foreach(t ${UNIT_WEB})
	add_unit_test(${t} web ${JITCAD_LIBS} PkgConfig::CURL)
endforeach()

file(GLOB UNIT_CLIENT CONFIGURE_DEPENDS
	${PROJECT_SOURCE_DIR}/tests/unit/client/test_*.c)
foreach(t ${UNIT_CLIENT})
	add_unit_test(${t} client jitca_client)
endforeach()

file(GLOB INTEGRATION CONFIGURE_DEPENDS
	${PROJECT_SOURCE_DIR}/tests/integration/test_*.c)
foreach(t ${INTEGRATION})
	add_unit_test(${t} integration ${JITCAD_LIBS} PkgConfig::CURL)
	get_filename_component(name ${t} NAME_WE)
	target_sources(integration_${name} PRIVATE
		${PROJECT_SOURCE_DIR}/tests/integration/support/asan_options.c)
endforeach()

# Fuzz targets (tests/fuzz/fuzz_*.c) replayed over their corpus plus
# deterministic mutants, with the sanitizers, on every test run; long
# libFuzzer sessions with the same targets: scripts/fuzz.
file(GLOB FUZZ_TARGETS CONFIGURE_DEPENDS
	${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
foreach(t ${FUZZ_TARGETS})
	get_filename_component(name ${t} NAME_WE)
	string(REPLACE "fuzz_" "" what ${name})
	add_executable(replay_${what} ${t}
		${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.c)
	target_link_libraries(replay_${what} PRIVATE ${JITCAD_LIBS})
	add_test(NAME fuzz_${what} COMMAND replay_${what}
		${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${what})
	set_tests_properties(fuzz_${what} PROPERTIES LABELS fuzz
		ENVIRONMENT "${JITCA_TEST_ENV}" TIMEOUT 600)
endforeach()

# A build without test hooks ignores JITCA_TEST_NOW: ca/store/ (whose
# chain.c holds the clock) compiled again without -DJITCA_TEST_HOOKS, as
# a plain build compiles it.
add_library(jitca_ledger_nohooks STATIC ${PROJECT_SOURCE_DIR}/ca/store/chain.c
	${PROJECT_SOURCE_DIR}/ca/store/sqlite.c
	${PROJECT_SOURCE_DIR}/ca/store/jsonw.c
	${PROJECT_SOURCE_DIR}/ca/store/pg.c
	${PROJECT_SOURCE_DIR}/ca/store/store.c)
target_link_libraries(jitca_ledger_nohooks PUBLIC jitca_signer
	PkgConfig::SQLITE PkgConfig::LIBPQ PkgConfig::JANSSON)
add_executable(nohooks_test_clock
	${PROJECT_SOURCE_DIR}/tests/nohooks/test_clock.c)
target_link_libraries(nohooks_test_clock PRIVATE jitca_ledger_nohooks
	PkgConfig::CRITERION)
add_test(NAME nohooks_test_clock COMMAND nohooks_test_clock)
set_tests_properties(nohooks_test_clock PROPERTIES LABELS ca
	ENVIRONMENT "${JITCA_TEST_ENV}")

# SoftHSM2 2.6.1 leaks a little OpenSSL memory inside its own C_SignInit
# for EdDSA keys (it decodes the curve parameters at every call and never
# frees them).  LeakSanitizer is told to ignore leaks whose stack passes
# through libsofthsm2.so, and nothing else; the full unwinder is needed
# for that stack to show the library at all.
if(TEST signer_test_p11)
	set_property(TEST signer_test_p11 APPEND PROPERTY ENVIRONMENT_MODIFICATION
		"ASAN_OPTIONS=string_append::fast_unwind_on_malloc=0"
		"LSAN_OPTIONS=set:suppressions=${PROJECT_SOURCE_DIR}/tests/unit/signer/softhsm2.supp")
endif()
