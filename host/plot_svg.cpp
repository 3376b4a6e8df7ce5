// The SVG writer behind `betamix fit --plot` and `betamix plot`: two panels on one canvas,
// each an axis box with "nice" ticks (1, 2 or 5 times a power of ten), the curves as
// polylines clipped to the box.

#include "plot_svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "special.hpp"

namespace betamix::detail {
namespace {

constexpr double kWidth = 960, kHeight = 840;
constexpr int kCurvePoints = 1000;           // density curve resolution on (0,1)
constexpr std::size_t kMaxNllPoints = 2000;  // longer histories are thinned evenly
// Colours of the components (the "tab10" palette, which stays distinct for colour-blind
// readers up to about 8 components), the mixture and the histogram.
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr const char* kMixtureColour = "#111111";
constexpr const char* kHistogramFill = "#c8d3e0";

// The length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_length(const std::string& text, std::size_t i) {
  const auto at = [&](std::size_t j) {
    return j < text.size() ? static_cast<unsigned char>(text[j]) : 0u;
  };
  const unsigned lead = at(i);
  const auto cont = [&](std::size_t j, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return at(j) >= lo && at(j) <= hi;
  };
  if (lead >= 0xC2 && lead <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    const unsigned lo = lead == 0xE0 ? 0xA0 : 0x80, hi = lead == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    const unsigned lo = lead == 0xF0 ? 0x90 : 0x80, hi = lead == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// Text for an XML document declared UTF-8: the five special characters escaped, control
// characters dropped, and bytes that are not UTF-8 (a file name in Latin-1) each replaced by
// U+FFFD.
std::string escape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const std::size_t len = utf8_length(text, i);
      if (len == 0) {
        out += "\xEF\xBF\xBD";
      } else {
        out.append(text, i, len);
        i += len - 1;
      }
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// A tick step of 1, 2 or 5 times a power of ten giving about `target` intervals over `span`.
double nice_step(double span, int target) {
  const double raw = span / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * p;
}

std::string tick_label(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-9 ? 0.0 : v);
  return buf;
}

// A panel: data coordinates [x0, x1] x [y0, y1] mapped onto the pixel box.
struct Panel {
  double left, top, right, bottom;
  double x0, x1, y0, y1;
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  double py(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
};

// Axis box, ticks, tick labels, axis labels and the panel title.
void axes(std::string& svg, const Panel& p, double xstep, double ystep, const std::string& xlabel,
          const std::string& ylabel, const std::string& title) {
  svg += "<g class=\"axes\" stroke=\"#333\" stroke-width=\"1\" fill=\"none\">\n";
  svg += "<rect x=\"" + num(p.left) + "\" y=\"" + num(p.top) + "\" width=\"" +
         num(p.right - p.left) + "\" height=\"" + num(p.bottom - p.top) + "\"/>\n";
  std::string labels;
  for (double t = std::ceil(p.x0 / xstep - 1e-9) * xstep; t <= p.x1 + xstep * 1e-9; t += xstep) {
    const double x = p.px(t);
    svg += "<line x1=\"" + num(x) + "\" y1=\"" + num(p.bottom) + "\" x2=\"" + num(x) + "\" y2=\"" +
           num(p.bottom + 6) + "\"/>\n";
    labels += "<text x=\"" + num(x) + "\" y=\"" + num(p.bottom + 22) +
              "\" text-anchor=\"middle\">" + tick_label(t, xstep) + "</text>\n";
  }
  for (double t = std::ceil(p.y0 / ystep - 1e-9) * ystep; t <= p.y1 + ystep * 1e-9; t += ystep) {
    const double y = p.py(t);
    svg += "<line x1=\"" + num(p.left - 6) + "\" y1=\"" + num(y) + "\" x2=\"" + num(p.left) +
           "\" y2=\"" + num(y) + "\"/>\n";
    svg += "<line x1=\"" + num(p.left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(p.right) +
           "\" y2=\"" + num(y) + "\" stroke=\"#e4e4e4\"/>\n";
    labels += "<text x=\"" + num(p.left - 10) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" +
              tick_label(t, ystep) + "</text>\n";
  }
  svg += "</g>\n<g class=\"labels\" fill=\"#222\" font-size=\"13\">\n" + labels;
  const double mid_x = (p.left + p.right) / 2, mid_y = (p.top + p.bottom) / 2;
  svg += "<text x=\"" + num(mid_x) + "\" y=\"" + num(p.bottom + 44) +
         "\" text-anchor=\"middle\" font-size=\"14\">" + escape(xlabel) + "</text>\n";
  svg += "<text x=\"" + num(p.left - 62) + "\" y=\"" + num(mid_y) +
         "\" text-anchor=\"middle\" font-size=\"14\" transform=\"rotate(-90 " + num(p.left - 62) +
         " " + num(mid_y) + ")\">" + escape(ylabel) + "</text>\n";
  svg += "<text x=\"" + num(p.left) + "\" y=\"" + num(p.top - 12) +
         "\" font-size=\"16\" font-weight=\"bold\">" + escape(title) + "</text>\n</g>\n";
}

std::string clip_rect(const std::string& id, const Panel& p) {
  return "<clipPath id=\"" + id + "\"><rect x=\"" + num(p.left) + "\" y=\"" + num(p.top) +
         "\" width=\"" + num(p.right - p.left) + "\" height=\"" + num(p.bottom - p.top) +
         "\"/></clipPath>\n";
}

// A polyline through (xs[i], ys[i]); values far outside the box are pinned just outside it so
// that the clip path cuts them and no coordinate is infinite.
std::string polyline(const Panel& p, const std::vector<double>& xs, const std::vector<double>& ys,
                     const std::string& series, const std::string& style) {
  std::string pts;
  const double span = p.y1 - p.y0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double y =
        std::clamp(std::isfinite(ys[i]) ? ys[i] : p.y1 + span, p.y0 - span, p.y1 + span);
    pts += num(p.px(xs[i])) + "," + num(p.py(y)) + " ";
  }
  if (!pts.empty()) pts.pop_back();
  return "<polyline class=\"series\" data-series=\"" + series + "\" fill=\"none\" " + style +
         " points=\"" + pts + "\"/>\n";
}

std::string format_param(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

void density_panel(std::string& svg, const PlotData& d, const Panel& box) {
  const int k = static_cast<int>(d.params.k());
  const MixtureParams p = d.params.normalized();
  // Histogram on a density scale: bin weight / (total weight * bin width).
  std::vector<double> hist(d.bins, 0.0);
  double total = 0.0;
  for (std::size_t i = 0; i < d.n; ++i) {
    const double v = d.weights ? d.weights[i] : 1.0;
    const int b = std::min(d.bins - 1, std::max(0, static_cast<int>(d.x[i] * d.bins)));
    hist[b] += v;
    total += v;
  }
  const double width = 1.0 / d.bins;
  for (double& h : hist) h = total > 0.0 ? h / (total * width) : 0.0;
  // Curves on a grid of cell midpoints, so that no point sits on 0 or 1, and around each
  // component narrower than a few cells (mean +- 4 sd in steps of sd / 2), which the grid
  // alone would step over: a collapsed component must show as a spike, not as nothing.
  // Each point with whether it is on the regular grid, which alone sets the y range below.
  std::vector<std::pair<double, bool>> grid;
  for (int g = 0; g < kCurvePoints; ++g) grid.emplace_back((g + 0.5) / kCurvePoints, true);
  for (int j = 0; j < k; ++j) {
    const double a = p.alpha[j], b = p.beta[j], mean = a / (a + b);
    const double sd = std::sqrt(mean * (1.0 - mean) / (a + b + 1.0));
    if (!(sd < 4.0 / kCurvePoints)) continue;
    for (int t = -8; t <= 8; ++t) {
      const double v = mean + 0.5 * t * sd;
      if (v > 0.0 && v < 1.0) grid.emplace_back(v, false);
    }
  }
  // Sorted with a grid point before an added one at the same x, which unique() then keeps.
  std::sort(grid.begin(), grid.end(), [](const auto& u, const auto& v) {
    return u.first < v.first || (u.first == v.first && u.second > v.second);
  });
  grid.erase(std::unique(grid.begin(), grid.end(),
                         [](const auto& u, const auto& v) { return u.first == v.first; }),
             grid.end());
  const std::size_t points = grid.size();
  std::vector<double> xs(points), mix(points, 0.0);
  std::vector<std::vector<double>> comp(k, std::vector<double>(points));
  // The y range follows the histogram and the curve on the regular grid away from the ends,
  // where a shape below 1 sends the density to infinity; the clip path cuts what rises above
  // (a narrow spike, too, which then runs off the top).
  double top = *std::max_element(hist.begin(), hist.end());
  for (std::size_t g = 0; g < points; ++g) {
    xs[g] = grid[g].first;
    for (int j = 0; j < k; ++j) {
      comp[j][g] = p.weights[j] * std::exp(beta_log_pdf(xs[g], p.alpha[j], p.beta[j]));
      mix[g] += comp[j][g];
    }
    if (grid[g].second && xs[g] > 0.02 && xs[g] < 0.98 && std::isfinite(mix[g])) {
      top = std::max(top, mix[g]);
    }
  }
  if (!(top > 0.0)) top = 1.0;
  const double ystep = nice_step(1.1 * top, 6);
  Panel pl = box;
  pl.x0 = 0.0;
  pl.x1 = 1.0;
  pl.y0 = 0.0;
  pl.y1 = std::ceil(1.1 * top / ystep) * ystep;
  svg += "<defs>" + clip_rect("clip-density", pl) + "</defs>\n";
  svg += "<g class=\"series\" data-series=\"histogram\" fill=\"" + std::string(kHistogramFill) +
         "\" stroke=\"#ffffff\" stroke-width=\"0.5\" clip-path=\"url(#clip-density)\">\n";
  for (int b = 0; b < d.bins; ++b) {
    const double y = std::min(hist[b], pl.y1);
    svg += "<rect x=\"" + num(pl.px(b * width)) + "\" y=\"" + num(pl.py(y)) + "\" width=\"" +
           num(pl.px(width) - pl.px(0.0)) + "\" height=\"" + num(pl.py(0.0) - pl.py(y)) + "\"/>\n";
  }
  // The mixture first: where one component dominates the curves coincide, and the dashed
  // component drawn over it stays visible.
  svg += "</g>\n<g clip-path=\"url(#clip-density)\">\n";
  svg += polyline(pl, xs, mix, "mixture",
                  std::string("stroke=\"") + kMixtureColour + "\" stroke-width=\"2.5\"");
  for (int j = 0; j < k; ++j) {
    svg += polyline(pl, xs, comp[j], "component-" + std::to_string(j + 1),
                    std::string("stroke=\"") + kPalette[j % 10] +
                        "\" stroke-width=\"2\" stroke-dasharray=\"7 4\"");
  }
  svg += "</g>\n";
  axes(svg, pl, 0.1, ystep, "x", "density",
       "Data and fitted mixture (K = " + std::to_string(k) + ", n = " + std::to_string(d.n) + ")");
  // Legend to the right of the box, where it hides no data, no taller than the box: with more
  // components than fit, the last row counts the ones not listed.
  const int room = std::max(3, static_cast<int>((pl.py(0.0) - pl.top - 8.0) / 22.0)) - 2;
  const int listed = k <= room ? k : room - 1;
  const int rows = listed + (listed < k ? 1 : 0);
  const double lw = kWidth - pl.right - 30, lh = 22.0 * (rows + 2) + 8;
  const double lx = pl.right + 15, ly = pl.top;
  svg += "<g class=\"legend\" font-size=\"13\" fill=\"#222\">\n<rect x=\"" + num(lx) + "\" y=\"" +
         num(ly) + "\" width=\"" + num(lw) + "\" height=\"" + num(lh) +
         "\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n";
  const auto entry = [&](int row, const std::string& mark, const std::string& label) {
    const double y = ly + 19 + 22.0 * row;
    svg += mark + "<text x=\"" + num(lx + 46) + "\" y=\"" + num(y + 4) + "\">" + escape(label) +
           "</text>\n";
  };
  const auto line_mark = [&](int row, const std::string& style) {
    const double y = ly + 19 + 22.0 * row;
    return "<line x1=\"" + num(lx + 10) + "\" y1=\"" + num(y) + "\" x2=\"" + num(lx + 38) +
           "\" y2=\"" + num(y) + "\" " + style + "/>";
  };
  entry(0,
        "<rect x=\"" + num(lx + 10) + "\" y=\"" + num(ly + 12) + "\" width=\"28\" height=\"14\" " +
            "fill=\"" + kHistogramFill + "\"/>",
        "data (histogram, " + std::to_string(d.bins) + " bins)");
  entry(1, line_mark(1, std::string("stroke=\"") + kMixtureColour + "\" stroke-width=\"2.5\""),
        "fitted mixture");
  for (int j = 0; j < listed; ++j) {
    entry(j + 2,
          line_mark(j + 2, std::string("stroke=\"") + kPalette[j % 10] +
                               "\" stroke-width=\"2\" stroke-dasharray=\"7 4\""),
          std::to_string(j + 1) + ": w=" + format_param(p.weights[j]) +
              " \xCE\xB1=" + format_param(p.alpha[j]) + " \xCE\xB2=" + format_param(p.beta[j]));
  }
  if (listed < k) {
    entry(listed + 2, "",
          "\xE2\x80\xA6 and " + std::to_string(k - listed) + " more components (in the JSON)");
  }
  svg += "</g>\n";
}

constexpr double kMaxPlotted = 1e300;

void nll_panel(std::string& svg, const std::vector<double>& history, double result_nll,
               const Panel& box) {
  // Values beyond +-1e300 (a hand-edited model) are drawn at +-1e300, so that the span of the
  // axis, and every coordinate, stays finite.
  std::vector<double> h(history);
  for (double& v : h) {
    if (std::isfinite(v)) v = std::clamp(v, -kMaxPlotted, kMaxPlotted);
  }
  Panel pl = box;
  const double last = h.empty() ? 1.0 : static_cast<double>(h.size() - 1);
  const double xstep = nice_step(std::max(last, 1.0), 8);
  pl.x0 = 0.0;
  pl.x1 = std::max(xstep, std::ceil(last / xstep) * xstep);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : h) {
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!(lo <= hi)) lo = 0.0, hi = 1.0;
  const double pad = std::max((hi - lo) * 0.05, 1e-9 * std::max(1.0, std::abs(hi)));
  const double ystep = nice_step(hi - lo + 2 * pad, 5);
  pl.y0 = std::floor((lo - pad) / ystep) * ystep;
  pl.y1 = std::ceil((hi + pad) / ystep) * ystep;
  svg += "<defs>" + clip_rect("clip-nll", pl) + "</defs>\n";
  if (h.empty()) {
    svg += "<text x=\"" + num((pl.left + pl.right) / 2) + "\" y=\"" +
           num((pl.top + pl.bottom) / 2) +
           "\" text-anchor=\"middle\" font-size=\"14\" fill=\"#666\">no iteration history "
           "in the result</text>\n";
  } else {
    const std::size_t stride = (h.size() + kMaxNllPoints - 1) / kMaxNllPoints;
    std::vector<double> xs, ys;
    for (std::size_t i = 0; i < h.size(); i += stride) {
      xs.push_back(static_cast<double>(i));
      ys.push_back(h[i]);
    }
    if (xs.back() != last) {
      xs.push_back(last);
      ys.push_back(h.back());
    }
    svg += "<g clip-path=\"url(#clip-nll)\">\n" +
           polyline(pl, xs, ys, "mean-nll", "stroke=\"#1f77b4\" stroke-width=\"2\"") + "</g>\n";
    // Eight digits, or as many more as it takes for the result's value to read differently
    // from the last (they can agree to eight: a difference of 3e-7 in -0.43 is 0.3 nats in
    // 1000 samples).
    const auto at = std::find(history.begin(), history.end(), result_nll);
    const bool marked = result_nll != history.back() && at != history.end();
    int digits = 8;
    const auto text = [](const char* label, double v, int d) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s %.*g", label, d, v);
      return std::string(buf);
    };
    while (marked && digits < 17 &&
           text("", history.back(), digits) == text("", result_nll, digits)) {
      ++digits;
    }
    const std::string final = text("final", history.back(), digits);
    svg += "<g font-size=\"13\" fill=\"#222\"><text x=\"" + num(pl.right + 15) + "\" y=\"" +
           num(pl.top + 18) + "\">" + final + "</text><text x=\"" + num(pl.right + 15) + "\" y=\"" +
           num(pl.top + 38) + "\">after " + std::to_string(h.size() - 1) +
           " iterations</text></g>\n";
    // The result's point, where it is not the last one: the first iteration that holds it.
    if (marked) {
      const std::size_t i = static_cast<std::size_t>(at - history.begin());
      svg += "<circle class=\"series\" data-series=\"result-point\" cx=\"" +
             num(pl.px(static_cast<double>(i))) + "\" cy=\"" + num(pl.py(h[i])) +
             "\" r=\"4\" fill=\"#d62728\"/>\n";
      const std::string best = text("result", history[i], digits);
      svg += "<g font-size=\"13\" fill=\"#d62728\"><text x=\"" + num(pl.right + 15) + "\" y=\"" +
             num(pl.top + 62) + "\">" + best + "</text><text x=\"" + num(pl.right + 15) +
             "\" y=\"" + num(pl.top + 82) + "\">at iteration " + std::to_string(i) +
             "</text></g>\n";
    }
  }
  axes(svg, pl, xstep, ystep, "iteration", "mean NLL",
       "Mean negative log-likelihood per iteration");
}

}  // namespace

std::string plot_svg(const PlotData& d) {
  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + num(kWidth) +
         "\" height=\"" + num(kHeight) + "\" viewBox=\"0 0 " + num(kWidth) + " " + num(kHeight) +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
  svg += "<title>" + escape("betamix fit" + (d.title.empty() ? "" : ": " + d.title)) + "</title>\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  if (!d.title.empty()) {
    svg += "<text x=\"" + num(kWidth / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" " +
           "fill=\"#444\">" + escape(d.title) + "</text>\n";
  }
  density_panel(svg, d, Panel{90, 70, 680, 470, 0, 1, 0, 1});
  nll_panel(svg, d.history, d.result_nll, Panel{90, 560, 680, 770, 0, 1, 0, 1});
  svg += "</svg>\n";
  return svg;
}

}  // namespace betamix::detail
