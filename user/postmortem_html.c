/* `postmortem --html`: a self-contained page, a lane per host on one time axis, and
 * the timeline as a table; every journal string is HTML-escaped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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


/* Label boxes: monospace, so a label's width is known without a browser. */
#define LBL_FONT   11
#define LBL_CHAR_W 7      /* >= the advance of an 11px monospace glyph (6.6px) */
#define LBL_ROW    16
#define LBL_MAX    36     /* characters */

struct lbl {
	size_t rec;
	double x, w;
	int row;
};

/* Rows per lane: each label goes to the lowest row where it does not reach the previous
 * label of that row (greedy interval colouring in time order): no two labels overlap. */
static int place_labels(struct lbl *l, size_t n, double xmax)
{
	double ends[64];
	int rows = 0;

	for (size_t i = 0; i < n; i++) {
		int r;
		if (l[i].x + l[i].w > xmax)
			l[i].x = xmax - l[i].w;
		for (r = 0; r < rows && ends[r] + 4 > l[i].x; r++)
			;
		if (r == rows) {
			if (rows == 64) {
				r = 63;   /* never: a lane holds at most 64 rows; the last one is reused */
			} else {
				rows++;
			}
		}
		l[i].row = r;
		ends[r] = l[i].x + l[i].w;
	}
	return rows;
}

int mg_pm_write_html(const char *path, struct pm *p, char **hosts, size_t nh,
		      const char *summary)
{
	FILE *f = fopen(path, "we");
	const int W = 1000, X0 = 170, TOP = 30, RIGHT = 260, BASE = 46;
	uint64_t t0 = p->n ? p->v[0].ts : 0, t1 = p->n ? p->v[p->n - 1].ts : 1;
	char ts[64], text[1400], lbl[160], note[1200];
	struct lbl *labels = NULL;
	size_t *lane_n = NULL;
	int *lane_rows = NULL, *lane_y = NULL, height = TOP;

	if (!f) {
		mg_err("--html %s: %s", path, strerror(errno));
		return -1;
	}
	if (t1 <= t0)
		t1 = t0 + 1;
	labels = calloc(p->n ? p->n : 1, sizeof(*labels));
	lane_n = calloc(nh + 1, sizeof(*lane_n));
	lane_rows = calloc(nh + 1, sizeof(*lane_rows));
	lane_y = calloc(nh + 1, sizeof(*lane_y));
	if (!labels || !lane_n || !lane_rows || !lane_y) {
		mg_err("out of memory");
		fclose(f);
		free(labels), free(lane_n), free(lane_rows), free(lane_y);
		return -1;
	}
	/* lay out every lane first: its height depends on its label rows */
	{
		size_t k = 0;
		for (size_t h = 0; h < nh; h++) {
			size_t first = k;
			for (size_t i = 0; i < p->n; i++) {
				struct prec *r = &p->v[i];
				if (strcmp(mg_jstr(r->o, "host"), hosts[h]))
					continue;
				short_label(r, lbl, sizeof(lbl));
				labels[k].rec = i;
				labels[k].x = X0 + (double)(r->ts - t0) * W / (double)(t1 - t0) + 3;
				labels[k].w = (double)(strlen(lbl) > LBL_MAX ? LBL_MAX : strlen(lbl)) *
					      LBL_CHAR_W + 4;
				k++;
			}
			lane_n[h] = k - first;
			lane_rows[h] = place_labels(labels + first, k - first, W + X0 + RIGHT - 4);
			lane_y[h] = height;
			height += BASE + lane_rows[h] * LBL_ROW;
		}
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>macvguard postmortem</title>\n<style>\n"
	      "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}\n"
	      "#summary{font-size:16px;padding:.8em 1em;background:#fff4e5;border-left:5px solid #e67e22}\n"
	      "#banner{padding:.6em 1em;background:#fdecea;border-left:5px solid #c0392b;font-weight:bold}\n"
	      "#legend{list-style:none;padding:0;margin:.5em 0;font-size:12px}\n"
	      "#legend li{display:inline-block;margin-right:1.2em}\n"
	      ".sw{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:4px;vertical-align:-1px}\n"
	      "table{border-collapse:collapse;margin-top:1em;font:12px monospace}\n"
	      "td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}\n"
	      ".lane-bg{fill:#f6f6f6}.lane-name{font:bold 13px sans-serif}\n"
	      /* one colour per verdict (deny, audit, gone, allow) and per kind of record */
	      "circle.deny{fill:#c0392b}.sw.deny{background:#c0392b}\n"
	      "circle.audit{fill:#e67e22}.sw.audit{background:#e67e22}\n"
	      "circle.gone{fill:#6c3483}.sw.gone{background:#6c3483}\n"
	      "circle.allow{fill:#27ae60}.sw.allow{background:#27ae60}\n"
	      "circle.hook{fill:#2980b9}.sw.hook{background:#2980b9}\n"
	      "circle.tag,circle.untag,circle.release{fill:#16a085}.sw.tag{background:#16a085}\n"
	      "circle.agent,circle.mode,circle.lost,circle.link{fill:#95a5a6}.sw.agent{background:#95a5a6}\n"
	      "tr.audit td{background:#fef5e7}tr.gone td{background:#f4ecf7}\n"
	      "tr.deny td{background:#fdecea}\n"
	      ".lbl{font:11px monospace;fill:#222}\n"
	      "</style></head><body>\n<h1>macvguard postmortem</h1>\n", f);
	mg_pm_guard_note(p, hosts, nh, note, sizeof(note));
	if (note[0]) {
		fputs("<p id=\"banner\">", f);
		html_esc(f, note);
		fputs("</p>\n", f);
	}
	fputs("<p id=\"summary\">", f);
	html_esc(f, summary);
	fprintf(f, "</p>\n<p id=\"scope\">");
	if (p->domain) {
		fputs("Domain ", f);
		html_esc(f, p->domain);
		fputs(": ", f);
	}
	fprintf(f, "%zu records on %zu host(s)</p>\n", p->n, nh);
	fputs("<ul id=\"legend\">"
	      "<li><span class=\"sw deny\"></span>deny (refused)</li>"
	      "<li><span class=\"sw audit\"></span>audit (allowed, would be refused)</li>"
	      "<li><span class=\"sw gone\"></span>gone (link went away)</li>"
	      "<li><span class=\"sw allow\"></span>allow</li>"
	      "<li><span class=\"sw hook\"></span>libvirt hook</li>"
	      "<li><span class=\"sw tag\"></span>tag, untag, release</li>"
	      "<li><span class=\"sw agent\"></span>agent, link, mode, lost</li></ul>\n", f);
	fprintf(f, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		   "height=\"%d\">\n", W + X0 + RIGHT, height + 30);
	{
		size_t k = 0;
		for (size_t h = 0; h < nh; h++) {
			int y0 = lane_y[h], lh = BASE + lane_rows[h] * LBL_ROW, cy = y0 + lh - 14;

			fprintf(f, "<g class=\"lane\" data-host=\"");
			html_esc(f, hosts[h]);
			fprintf(f, "\"><rect class=\"lane-bg\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"/>"
				   "<text class=\"lane-name\" x=\"6\" y=\"%d\">", y0, W + X0 + RIGHT,
				lh - 6, cy + 4);
			html_esc(f, hosts[h]);
			fputs("</text>\n", f);
			for (size_t m = 0; m < lane_n[h]; m++, k++) {
				struct lbl *L = &labels[k];
				struct prec *r = &p->v[L->rec];
				double x = X0 + (double)(r->ts - t0) * W / (double)(t1 - t0);
				int ly = cy - 14 - L->row * LBL_ROW;

				mg_jrec_text(r->o, text, sizeof(text));
				short_label(r, lbl, sizeof(lbl));
				if (strlen(lbl) > LBL_MAX)
					strcpy(lbl + LBL_MAX - 3, "...");
				fprintf(f, "<g class=\"ev\" data-seq=\"%llu\"><circle class=\"%s\" cx=\"%.1f\" "
					   "cy=\"%d\" r=\"6\"><title>", (unsigned long long)r->seq,
					rec_class(r), x, cy);
				html_esc(f, mg_jstr(r->o, "time"));
				fputc(' ', f);
				html_esc(f, text);
				fprintf(f, "</title></circle><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
					   "stroke=\"#bbb\" stroke-width=\"0.5\"/><text class=\"lbl\" x=\"%.1f\" "
					   "y=\"%d\" data-w=\"%.0f\">", x, cy - 6, L->x, ly + 2, L->x, ly, L->w);
				html_esc(f, lbl);
				fputs("</text></g>\n", f);
			}
			fputs("</g>\n", f);
		}
	}
	mg_format_time(t0, ts, sizeof(ts));
	fprintf(f, "<text class=\"axis\" font-size=\"10\" x=\"%d\" y=\"%d\">%s</text>", X0, height + 20, ts);
	mg_format_time(t1, ts, sizeof(ts));
	fprintf(f, "<text class=\"axis\" font-size=\"10\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n</svg>\n",
		X0 + W, height + 20, ts);
	free(labels);
	free(lane_n);
	free(lane_rows);
	free(lane_y);
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
