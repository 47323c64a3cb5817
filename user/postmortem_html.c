/* `postmortem --html`: a self-contained page, a lane per host on one time axis, and
 * the timeline as a table; every journal string is HTML-escaped. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "names.h"
#include "output.h"
#include "postmortem.h"

static void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *rec_class(const struct prec *r)
{
	if (r->type == MG_JT_VERDICT)
		return mg_verdict_name(r->verdict);
	return mg_jtype_name(r->type);
}

static void short_label(const struct prec *r, char *out, size_t size)
{
	json_object *o = r->o;

	switch (r->type) {
	case MG_JT_VERDICT:
		snprintf(out, size, "%s %s", mg_jstr(o, "verdict"), mg_jstr(o, "ifname"));
		break;
	case MG_JT_HOOK:
		snprintf(out, size, "%s %s", mg_jstr(o, "domain"), mg_jstr(o, "op"));
		break;
	case MG_JT_AGENT: case MG_JT_LINK:
		snprintf(out, size, "%s %s", mg_jtype_name(r->type), mg_jstr(o, "event"));
		break;
	default:
		snprintf(out, size, "%s %s", mg_jtype_name(r->type), mg_jstr(o, "ifname"));
	}
}

int mg_pm_write_html(const char *path, struct pm *p, char **hosts, size_t nh,
		      const char *summary)
{
	FILE *f = fopen(path, "we");
	const int W = 1000, LANE = 130, X0 = 160, TOP = 30, RIGHT = 160;
	uint64_t t0 = p->n ? p->v[0].ts : 0, t1 = p->n ? p->v[p->n - 1].ts : 1;
	char ts[64], text[1400], lbl[160];

	if (!f) {
		mg_err("--html %s: %s", path, strerror(errno));
		return -1;
	}
	if (t1 <= t0)
		t1 = t0 + 1;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>macvguard postmortem</title>\n<style>\n"
	      "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}\n"
	      "#summary{font-size:16px;padding:.8em 1em;background:#fff4e5;border-left:5px solid #e67e22}\n"
	      "table{border-collapse:collapse;margin-top:1em;font:12px monospace}\n"
	      "td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}\n"
	      ".lane-bg{fill:#f6f6f6}.lane-name{font:bold 13px sans-serif}\n"
	      "circle.deny{fill:#c0392b}circle.audit{fill:#e67e22}circle.allow{fill:#27ae60}\n"
	      "circle.gone{fill:#7f8c8d}circle.hook{fill:#2980b9}circle.tag,circle.untag,"
	      "circle.release{fill:#8e44ad}circle.agent,circle.mode,circle.lost,circle.link{fill:#95a5a6}\n"
	      "tr.deny td{background:#fdecea}\n.lbl{font:10px sans-serif}\n"
	      "</style></head><body>\n<h1>macvguard postmortem</h1>\n<p id=\"summary\">", f);
	html_esc(f, summary);
	fprintf(f, "</p>\n<p id=\"scope\">");
	if (p->domain) {
		fputs("Domain ", f);
		html_esc(f, p->domain);
		fputs(": ", f);
	}
	fprintf(f, "%zu records on %zu host(s)</p>\n", p->n, nh);
	fprintf(f, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		   "height=\"%zu\">\n", W + X0 + RIGHT, TOP + nh * LANE + 30);
	for (size_t h = 0; h < nh; h++) {
		fprintf(f, "<g class=\"lane\" data-host=\"");
		html_esc(f, hosts[h]);
		fprintf(f, "\"><rect class=\"lane-bg\" x=\"0\" y=\"%zu\" width=\"%d\" height=\"%d\"/>"
			   "<text class=\"lane-name\" x=\"6\" y=\"%zu\">", TOP + h * LANE, W + X0 + RIGHT,
			LANE - 6, TOP + h * LANE + LANE - 12);
		html_esc(f, hosts[h]);
		fputs("</text>\n", f);
		for (size_t i = 0; i < p->n; i++) {
			struct prec *r = &p->v[i];
			double x;
			if (strcmp(mg_jstr(r->o, "host"), hosts[h]))
				continue;
			x = X0 + (double)(r->ts - t0) * W / (double)(t1 - t0);
			mg_jrec_text(r->o, text, sizeof(text));
			short_label(r, lbl, sizeof(lbl));
			fprintf(f, "<g class=\"ev\" data-seq=\"%llu\"><circle class=\"%s\" cx=\"%.1f\" "
				   "cy=\"%zu\" r=\"6\"><title>", (unsigned long long)r->seq,
				rec_class(r), x, TOP + h * LANE + LANE - 12);
			html_esc(f, mg_jstr(r->o, "time"));
			fputc(' ', f);
			html_esc(f, text);
			fprintf(f, "</title></circle><text class=\"lbl\" x=\"%.1f\" y=\"%zu\" "
				   "transform=\"rotate(-25 %.1f %zu)\">", x + 4,
				TOP + h * LANE + LANE - 22 - (i % 5) * 18, x + 4,
				TOP + h * LANE + LANE - 22 - (i % 5) * 18);
			html_esc(f, lbl);
			fputs("</text></g>\n", f);
		}
		fputs("</g>\n", f);
	}
	mg_format_time(t0, ts, sizeof(ts));
	fprintf(f, "<text class=\"lbl\" x=\"%d\" y=\"%zu\">%s</text>", X0, TOP + nh * LANE + 20, ts);
	mg_format_time(t1, ts, sizeof(ts));
	fprintf(f, "<text class=\"lbl\" x=\"%d\" y=\"%zu\" text-anchor=\"end\">%s</text>\n</svg>\n",
		X0 + W, TOP + nh * LANE + 20, ts);
	fputs("<table id=\"records\"><tr><th>time</th><th>host</th><th>seq</th><th>type</th>"
	      "<th>event</th></tr>\n", f);
	for (size_t i = 0; i < p->n; i++) {
		struct prec *r = &p->v[i];
		mg_jrec_text(r->o, text, sizeof(text));
		fprintf(f, "<tr class=\"%s\"><td>", rec_class(r));
		html_esc(f, mg_jstr(r->o, "time"));
		fputs("</td><td class=\"host\">", f);
		html_esc(f, mg_jstr(r->o, "host"));
		fprintf(f, "</td><td>%llu</td><td>%s</td><td>", (unsigned long long)r->seq,
			mg_jtype_name(r->type));
		html_esc(f, text);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n</body></html>\n", f);
	if (fclose(f)) {
		mg_err("--html %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
