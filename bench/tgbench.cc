// The C wrapper over Google Benchmark (see tgbench.h).
#include "tgbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

benchmark::State &S(tgb_state *s) { return *reinterpret_cast<benchmark::State *>(s); }

// Collects every iteration run; prints it to stderr when verbose.
class Collector : public benchmark::BenchmarkReporter {
  public:
    explicit Collector(const tgb_options *o) : o_(o) {}
    bool ReportContext(const Context &) override { return true; }
    void ReportRuns(const std::vector<Run> &runs) override {
        for (const Run &r : runs) {
            if (r.run_type != Run::RT_Iteration) continue;
            tgb_result out;
            std::memset(&out, 0, sizeof out);
            std::string name = r.benchmark_name();
            const std::string suffix = "/real_time";  // added by UseRealTime
            if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
                name.resize(name.size() - suffix.size());
            std::snprintf(out.name, sizeof out.name, "%s", name.c_str());
            out.iterations = r.iterations;
            out.real_ns = r.iterations > 0 ? r.real_accumulated_time / (double)r.iterations * 1e9 : 0;
            out.error = r.error_occurred ? 1 : 0;
            std::snprintf(out.message, sizeof out.message, "%s", r.error_message.c_str());
            std::snprintf(out.label, sizeof out.label, "%s", r.report_label.c_str());
            for (const auto &c : r.counters) {
                if (out.ncounters == TGB_MAX_COUNTERS) break;
                std::snprintf(out.counter_name[out.ncounters], sizeof out.counter_name[0], "%s", c.first.c_str());
                out.counter_value[out.ncounters++] = c.second.value;
            }
            if (o_ && o_->on_result) o_->on_result(&out, o_->ctx);
            if (o_ && o_->verbose) {
                if (out.error)
                    std::fprintf(stderr, "  %-44s skipped: %s\n", out.name, out.message);
                else
                    std::fprintf(stderr, "  %-44s %12.1f us\n", out.name, out.real_ns / 1e3);
            }
            results.push_back(out);
        }
    }
    std::vector<tgb_result> results;

  private:
    const tgb_options *o_;
};

}  // namespace

extern "C" {

int tgb_register(const char *name, tgb_fn fn, void *arg) {
    if (!name || !name[0] || !fn) return -1;
    benchmark::RegisterBenchmark(name, [fn, arg](benchmark::State &st) {
        fn(reinterpret_cast<tgb_state *>(&st), arg);
    })->UseRealTime()->Unit(benchmark::kMicrosecond);
    return 0;
}

int tgb_keep_running(tgb_state *s) { return S(s).KeepRunning() ? 1 : 0; }
void tgb_pause_timing(tgb_state *s) { S(s).PauseTiming(); }
void tgb_resume_timing(tgb_state *s) { S(s).ResumeTiming(); }
int64_t tgb_iterations(const tgb_state *s) {
    return reinterpret_cast<const benchmark::State *>(s)->iterations();
}

void tgb_counter(tgb_state *s, const char *name, double value, unsigned flags) {
    S(s).counters[name] = benchmark::Counter(
        value, (flags & TGB_RATE) ? benchmark::Counter::kIsIterationInvariantRate : benchmark::Counter::kDefaults);
}

void tgb_label(tgb_state *s, const char *label) { S(s).SetLabel(label); }
void tgb_skip(tgb_state *s, const char *message) { S(s).SkipWithError(message); }

int tgb_run(const tgb_options *o, tgb_result **out_results, size_t *out_count) {
    std::vector<std::string> args = {"tg-bench"};
    *out_results = nullptr;
    *out_count = 0;
    if (o && o->json_path) {
        FILE *f = std::fopen(o->json_path, "w");  // Google Benchmark exits on an unwritable file
        if (!f) {
            std::fprintf(stderr, "tg bench: cannot write '%s'\n", o->json_path);
            return -1;
        }
        std::fclose(f);
        args.push_back(std::string("--benchmark_out=") + o->json_path);
        args.push_back("--benchmark_out_format=json");
    }
    if (o && o->min_time > 0) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "--benchmark_min_time=%g", o->min_time);
        args.push_back(buf);
    }
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(&a[0]);
    argv.push_back(nullptr);
    int argc = (int)args.size();
    benchmark::Initialize(&argc, argv.data());
    if (o && o->filter) benchmark::SetBenchmarkFilter(o->filter);
    Collector collector(o);
    benchmark::RunSpecifiedBenchmarks(&collector);
    size_t n = collector.results.size();
    tgb_result *res = (tgb_result *)std::calloc(n ? n : 1, sizeof *res);
    if (!res) return -1;
    if (n) std::memcpy(res, collector.results.data(), n * sizeof *res);
    *out_results = res;
    *out_count = n;
    return 0;
}

void tgb_results_free(tgb_result *results) { std::free(results); }

double tgb_result_counter(const tgb_result *r, const char *name, double fallback) {
    for (int i = 0; i < r->ncounters; i++)
        if (!std::strcmp(r->counter_name[i], name)) return r->counter_value[i];
    return fallback;
}

}  // extern "C"
