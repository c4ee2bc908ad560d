/*
 * asan_options.c: linked into the integration test binaries only.  They
 * are drivers (they build command lines, read outputs, and end with the
 * forked test process); leak checking them finds nothing but test
 * scaffolding.  The programs they run (jitcad, jitca) are not linked
 * with this file and keep LeakSanitizer on, as do the unit tests.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
