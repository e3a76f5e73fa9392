// The JIT test harness of tests/jit, compiled into this binary too (kiln_test builds one folder).
#include "tests/jit/jit_harness.cpp"
