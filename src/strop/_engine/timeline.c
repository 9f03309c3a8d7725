/* timeline.c: Chrome trace writer for the tracer's timeline (timeline.h). */
#include "timeline.h"

#include <inttypes.h>
#include <string.h>

#include "textbuf.h"

/* Microseconds since the origin, with nanosecond digits. */
static void
put_us(StropBuf *buf, uint64_t ticks, const StropTimelineInfo *info)
{
    uint64_t ns = (uint64_t)((double)ticks * info->ns_per_tick + 0.5);
    strop_buf_printf(buf, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

int
strop_timeline_write(FILE *out, const StropSpan *spans, size_t n_spans,
                     const StropLabel *labels, uint32_t n_funcs,
                     const StropTimelineThread *threads, uint32_t n_threads,
                     const StropTimelineInfo *info)
{
    StropBuf buf = {0}, name = {0};
    int first = 1, status = -1;

    strop_buf_puts(&buf, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"creator\":\"strop\"");
    if (info->command != NULL) {
        strop_buf_puts(&buf, ",\"command\":\"");
        strop_buf_put_json(&buf, info->command, strlen(info->command));
        strop_buf_putc(&buf, '"');
    }
    strop_buf_printf(&buf, ",\"dropped_calls\":%" PRIu64 "},\"traceEvents\":[", info->dropped);
    for (uint32_t t = 0; t < n_threads; t++) {
        strop_buf_printf(&buf,
                         "%s{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%ld,\"tid\":%lu,"
                         "\"args\":{\"name\":\"",
                         first ? "" : ",\n", info->pid, threads[t].ident);
        if (threads[t].name != NULL)
            strop_buf_put_json(&buf, threads[t].name, strlen(threads[t].name));
        else
            strop_buf_printf(&buf, "Thread %lu", threads[t].ident);
        strop_buf_puts(&buf, "\"}}");
        first = 0;
    }
    for (size_t i = 0; i < n_spans; i++) {
        const StropSpan *span = &spans[i];
        if (span->func >= n_funcs || labels[span->func].file == NULL ||
            span->thread >= n_threads)
            continue;
        name.len = 0;
        strop_buf_put_frame(&name, &labels[span->func]);
        if (name.failed) {
            buf.failed = 1;
            break;
        }
        strop_buf_puts(&buf, first ? "{\"ph\":\"X\",\"cat\":\"python\",\"name\":\""
                                   : ",\n{\"ph\":\"X\",\"cat\":\"python\",\"name\":\"");
        strop_buf_put_json(&buf, name.data, name.len);
        strop_buf_printf(&buf, "\",\"pid\":%ld,\"tid\":%lu,\"ts\":", info->pid,
                         threads[span->thread].ident);
        put_us(&buf, span->start > info->origin ? span->start - info->origin : 0, info);
        strop_buf_puts(&buf, ",\"dur\":");
        put_us(&buf, span->end > span->start ? span->end - span->start : 0, info);
        strop_buf_putc(&buf, '}');
        first = 0;
        if (strop_buf_flush_some(&buf, out) < 0)
            goto done;
    }
    strop_buf_puts(&buf, "]}\n");
    if (strop_buf_flush(&buf, out) < 0 || fflush(out) != 0)
        goto done;
    status = 0;
done:
    strop_buf_free(&buf);
    strop_buf_free(&name);
    return status;
}
