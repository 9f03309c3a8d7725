/* waitmap.c: the map of interactions as Graphviz dot (see waitmap.h).
 *
 * Layout is left to dot; to put the process in the middle, every other
 * endpoint is written as the tail of a reversed edge ("e1 -> process
 * [dir=back]"), which dot ranks on the process's left while the arrow still
 * points from the process to the endpoint.
 */
#include "waitmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "writers_int.h"

#define PLUS_MINUS "\xc2\xb1" /* U+00B1 */

/* What the kernel said of the connections to one TCP peer, added up. */
typedef struct PeerTraffic {
    size_t connections;
    uint64_t sent, received;
    double rtt_ms, rttvar_ms; /* means over connections that reported one */
    uint64_t retrans, segs_out;
} PeerTraffic;

/* Adds up the connections whose peer is the address of `endpoint` ("tcp
 * 127.0.0.1:5432"); 0 when none is known. */
static size_t
traffic_of(const StropMapInput *in, const char *endpoint, PeerTraffic *t)
{
    size_t with_rtt = 0;
    memset(t, 0, sizeof *t);
    if (in->tcp == NULL || strncmp(endpoint, "tcp ", 4) != 0)
        return 0;
    for (size_t i = 0; i < in->n_tcp; i++) {
        const StropHealthTcp *c = &in->tcp[i];
        if (strcmp(c->peer, endpoint + 4) != 0)
            continue;
        t->connections++;
        t->sent += c->sent;
        t->received += c->received;
        t->retrans += c->retrans;
        t->segs_out += c->segs_out;
        if (c->rtt_us > 0) {
            t->rtt_ms += c->rtt_us / 1000.0;
            t->rttvar_ms += c->rttvar_us / 1000.0;
            with_rtt++;
        }
    }
    if (with_rtt > 0) {
        t->rtt_ms /= (double)with_rtt;
        t->rttvar_ms /= (double)with_rtt;
    }
    return t->connections;
}

/* The node's shape for the kind of endpoint its name starts with. */
static const char *
shape_of(const StropEndpoint *e)
{
    const char *name = e->name;
    if (strncmp(name, "tcp ", 4) == 0 || strncmp(name, "udp ", 4) == 0 ||
        strncmp(name, "unix", 4) == 0)
        return e->service != NULL ? "cylinder" : "box";
    if (strncmp(name, "file ", 5) == 0)
        return "note";
    if (strncmp(name, "child pid", 9) == 0 || strcmp(name, "a child") == 0)
        return "component";
    if (strcmp(name, "lock") == 0 || strcmp(name, "GIL") == 0)
        return "octagon";
    if (strncmp(name, "select", 6) == 0)
        return "hexagon";
    return "ellipse";
}

/* Appends `len` bytes of `text` as a dot "..." string, its line breaks
 * as dot's \\n (strop_buf_put_dot alone would make them spaces). */
static void
put_label(StropBuf *out, const char *text, size_t len)
{
    size_t start = 0;
    strop_buf_putc(out, '"');
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        strop_buf_put_dot(out, text + start, i - start);
        if (i < len)
            strop_buf_puts(out, "\\n");
        start = i + 1;
    }
    strop_buf_putc(out, '"');
}

static void
put_buf_label(StropBuf *out, const StropBuf *label)
{
    if (label->failed)
        out->failed = 1;
    put_label(out, label->data ? label->data : "", label->failed ? 0 : label->len);
}

int
strop_map_dot(StropBuf *out, const StropMapInput *in)
{
    double total = in->samples > 0 ? in->samples : 1.0;
    strop_buf_puts(out, "digraph interactions {\n"
                        "  graph [rankdir=LR, ranksep=1.2, nodesep=0.3, fontname=\"Arial\", "
                        "labelloc=t, label=\"What the program waited on (share of the sampled "
                        "threads' wall time)\"];\n"
                        "  node [fontname=\"Arial\", fontsize=10, style=filled, "
                        "fillcolor=\"#f4f4f4\"];\n"
                        "  edge [fontname=\"Arial\", fontsize=9];\n"
                        "  process [shape=doublecircle, fillcolor=\"#ffffff\", label=");
    {
        const char *process = in->process != NULL ? in->process : "the program";
        put_label(out, process, strlen(process));
    }
    strop_buf_puts(out, "];\n");
    for (size_t i = 0; i < in->n; i++) {
        const StropEndpoint *e = in->ends[i];
        double share = (double)e->samples / total;
        const char *caller = in->callers != NULL ? in->callers[i] : NULL;
        PeerTraffic t;
        StropBuf label = {0};
        char hex[8];
        int dark_text = strop_dot_colour(share, hex);

        /* The endpoint: its name and its service. */
        strop_buf_puts(&label, e->name);
        if (e->service != NULL)
            strop_buf_printf(&label, "\n(%s)", e->service);
        strop_buf_printf(out, "  e%zu [shape=%s, fillcolor=\"%s\", fontcolor=\"%s\", label=", i,
                         shape_of(e), hex, dark_text ? "#000000" : "#ffffff");
        put_buf_label(out, &label);
        strop_buf_puts(out, "];\n");

        /* The link: share, waits, longest, caller, traffic. */
        label.len = 0;
        strop_buf_printf(&label, "%.1f%% of wall time\n%" PRIu64 " wait%s, longest %.3f s",
                         100.0 * share, e->waits, e->waits == 1 ? "" : "s",
                         (double)e->longest * in->period);
        if (caller != NULL)
            strop_buf_printf(&label, "\nin %s", caller);
        if (traffic_of(in, e->name, &t) > 0) {
            strop_buf_puts(&label, "\nsent ");
            strop_health_put_bytes(&label, t.sent);
            strop_buf_puts(&label, ", received ");
            strop_health_put_bytes(&label, t.received);
            strop_buf_printf(&label, "\nrtt %.3f ms " PLUS_MINUS " %.3f", t.rtt_ms, t.rttvar_ms);
            if (t.retrans > 0)
                strop_buf_printf(&label, ", %" PRIu64 " retransmitted of %" PRIu64, t.retrans,
                                 t.segs_out);
            if (t.connections > 1)
                strop_buf_printf(&label, "\n%zu connections", t.connections);
        }
        if (i % 2 == 0)
            strop_buf_printf(out, "  process -> e%zu [", i);
        else
            strop_buf_printf(out, "  e%zu -> process [dir=back, ", i);
        strop_buf_printf(out, "color=\"%s\", penwidth=%.2f, label=", hex, 1.0 + 5.0 * share);
        put_buf_label(out, &label);
        strop_buf_puts(out, "];\n");
        strop_buf_free(&label);
    }
    strop_buf_puts(out, "}\n");
    return out->failed ? -1 : 0;
}
