/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Compiled with clang -target bpf after build/tests/abi-host.h was generated (the layout gcc
 * gives the agent, printed by test_nlparse --abi-asserts): the build fails if the BPF
 * program sees any struct of mg_abi.h with another size, alignment or field offset.
 * The __u* types come from vmlinux.h in the real build; these are the same types.
 */
typedef unsigned char      __u8;
typedef unsigned short     __u16;
typedef unsigned int       __u32;
typedef unsigned long long __u64;
typedef signed int         __s32;

#include "mg_abi.h"

#include "abi-host.h"   /* $(BUILD)/tests, on the include path */

char _license[] __attribute__((section("license"), used)) = "GPL";
