# Benchmark programs for scripts/bench: every tests/bench/bench_*.c is one
# program linked against everything jitcad links.  Built only with
# -DJITCA_BENCH=ON; numbers mean something only in a Release build
# without sanitizers, which scripts/bench configures in build/bench.
if(JITCA_SANITIZE OR NOT CMAKE_BUILD_TYPE STREQUAL "Release")
	message(WARNING "JITCA_BENCH: use -DCMAKE_BUILD_TYPE=Release without "
		"JITCA_SANITIZE, or the numbers are meaningless")
endif()
file(GLOB BENCH_SRC CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/bench/bench_*.c)
foreach(src ${BENCH_SRC})
	get_filename_component(name ${src} NAME_WE)
	add_executable(${name} ${src}
		${PROJECT_SOURCE_DIR}/tests/lib/anypolicy.c)
	target_link_libraries(${name} PRIVATE ${JITCAD_LIBS} PkgConfig::CURL)
endforeach()
