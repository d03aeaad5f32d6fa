#ifndef REPPROBE_CPU_LEVEL_H
#define REPPROBE_CPU_LEVEL_H

/// Resolvers run before sanitizers have set themselves up, so neither they nor what they
/// call are instrumented.
#define RESOLVER __attribute__((no_sanitize("address", "thread", "undefined")))

/// The instruction set to use: 4 (AVX-512 F, DQ, BW and VL), 3 (AVX2 and FMA) or 1
/// (baseline x86-64), read by each function's resolver when the program loads. Every
/// kernel of this target chooses by it.
RESOLVER __attribute__((visibility("hidden"))) int repprobe_cpu_level(void);

/// Defines `signature` as the copy of `name` (`name##_v4`, `_v3` or `_v1`, of type `type`)
/// for this CPU's instruction set, chosen once when the program loads.
#define DISPATCH(name, type, signature)                                      \
    RESOLVER static type resolve_##name(void) {                              \
        int level = repprobe_cpu_level();                                    \
        return level == 4 ? name##_v4 : level == 3 ? name##_v3 : name##_v1; \
    }                                                                        \
    signature __attribute__((ifunc("resolve_" #name)));

#endif
