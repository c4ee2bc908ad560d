/*
 * anypolicy.h: a signer policy (signer/signer.h) that allows every
 * certificate the signer's generic checks allow, for the tests and
 * benchmarks that exercise the signer or sshd rather than the role
 * policy (tests/integration/test_custody.c tests that).  Its limits: a
 * hard maximum TTL of one day and a backdate of 300 s, or of as many
 * seconds as the policy argument (signer_params.policy_arg) says.
 *
 * It uses neither criterion nor the rest of tests/lib, so the benchmark
 * programs (tests/bench/, not tests) link it too.
 */
#ifndef JITCA_TESTS_ANYPOLICY_H
#define JITCA_TESTS_ANYPOLICY_H

#include "signer/signer.h"

extern const struct signer_policy tu_any_policy;

#endif /* JITCA_TESTS_ANYPOLICY_H */
