/* peak.h -- this host's measured peaks, for the roofline: an FMA loop and a
 * STREAM-style triad, on every core, best of a few trials. */
#ifndef TG_BENCH_PEAK_H
#define TG_BENCH_PEAK_H

typedef struct bench_peaks {
    double gflops;  /* float32 multiply-adds, 2 FLOP each */
    double gbps;    /* triad a = b + s*c: 12 bytes per element */
    int threads;
} bench_peaks;

/* Takes about `seconds` (0: 0.3 s) in all. */
void bench_measure_peaks(double seconds, bench_peaks *out);

#endif
