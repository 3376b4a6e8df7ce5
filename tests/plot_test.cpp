// The SVG picture of a fit (host/plot_svg.cpp): well-formed XML, with the series the issue
// names (histogram, mixture, each component, mean NLL), ticks and labels, for K = 1..3.

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "betamix/betamix.hpp"
#include "plot_svg.hpp"

namespace betamix {
namespace {

// A small well-formedness check of the XML this writer produces: one root, every element
// closed in order, attributes name="value", text without a bare '<' or '&' that is not one of
// the five predefined entities. Returns "" or what is wrong.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> open;
  std::size_t i = 0, roots = 0;
  const auto name_at = [&](std::size_t& p) {
    const std::size_t b = p;
    while (p < s.size() && (std::isalnum(static_cast<unsigned char>(s[p])) || s[p] == '-' ||
                            s[p] == ':' || s[p] == '_'))
      ++p;
    return s.substr(b, p - b);
  };
  const auto entity_ok = [&](std::size_t p) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
      if (s.compare(p, std::char_traits<char>::length(e), e) == 0) return true;
    }
    return false;
  };
  if (s.compare(0, 5, "<?xml") == 0) i = s.find("?>") + 2;
  while (i < s.size()) {
    if (s[i] == '&' && !entity_ok(i)) return "bad entity at " + std::to_string(i);
    if (s[i] != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(s[i])))
        return "text outside the root at " + std::to_string(i);
      ++i;
      continue;
    }
    if (s[i + 1] == '/') {
      std::size_t p = i + 2;
      const std::string name = name_at(p);
      if (open.empty() || open.back() != name) return "</" + name + "> closes nothing open";
      open.pop_back();
      if (s[p] != '>') return "junk in </" + name + ">";
      i = p + 1;
      continue;
    }
    std::size_t p = i + 1;
    const std::string name = name_at(p);
    if (name.empty()) return "bad tag at " + std::to_string(i);
    for (;;) {
      while (std::isspace(static_cast<unsigned char>(s[p]))) ++p;
      if (s[p] == '>' || (s[p] == '/' && s[p + 1] == '>')) break;
      const std::string attr = name_at(p);
      if (attr.empty() || s[p] != '=' || s[p + 1] != '"')
        return "bad attribute in <" + name + "> at " + std::to_string(p);
      const std::size_t end = s.find('"', p + 2);
      for (std::size_t q = p + 2; q < end; ++q) {
        if (s[q] == '<') return "'<' in an attribute of <" + name + ">";
        if (s[q] == '&' && !entity_ok(q)) return "bad entity in <" + name + ">";
      }
      p = end + 1;
    }
    if (open.empty() && ++roots > 1) return "more than one root element";
    if (s[p] == '/') {
      i = p + 2;
    } else {
      open.push_back(name);
      i = p + 1;
    }
  }
  return open.empty() ? "" : "<" + open.back() + "> is never closed";
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(PlotSvg, WellFormedWithEverySeries) {
  const MixtureParams models[] = {
      {{1.0}, {2.0}, {3.0}},
      {{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}},
      {{0.3, 0.4, 0.3}, {0.6, 7.0, 12.0}, {12.0, 7.0, 0.5}},  // densities unbounded at 0 and 1
  };
  for (const MixtureParams& m : models) {
    const std::vector<double> x = sample(m, 1001, 2);
    const std::vector<double> w(x.size(), 2.0);
    detail::PlotData d;
    d.x = x.data();
    d.weights = w.data();
    d.n = x.size();
    d.params = m;
    d.history = {-0.1, -0.3, -0.35, -0.36, -0.36};
    d.title = "data <a & b>.npy";
    const std::string svg = detail::plot_svg(d);
    const std::size_t k = m.k();
    EXPECT_EQ(xml_problem(svg), "") << "K = " << k;
    EXPECT_EQ(svg.find("nan"), std::string::npos) << "K = " << k;
    EXPECT_EQ(svg.find("inf"), std::string::npos) << "K = " << k;
    EXPECT_EQ(count(svg, "data-series=\"histogram\""), 1u);
    EXPECT_EQ(count(svg, "data-series=\"mixture\""), 1u);
    EXPECT_EQ(count(svg, "data-series=\"mean-nll\""), 1u);
    for (std::size_t j = 1; j <= k; ++j) {
      EXPECT_EQ(count(svg, "data-series=\"component-" + std::to_string(j) + "\""), 1u) << j;
    }
    EXPECT_EQ(count(svg, "data-series=\"component-" + std::to_string(k + 1) + "\""), 0u);
    // The histogram group holds one bar per bin (60 by default).
    const std::size_t hist_begin = svg.find("data-series=\"histogram\"");
    const std::string hist = svg.substr(hist_begin, svg.find("</g>", hist_begin) - hist_begin);
    EXPECT_EQ(count(hist, "<rect"), 60u);
    for (const char* label : {">density<", ">x<", ">iteration<", ">mean NLL<", ">fitted mixture<",
                              ">0.5<", "data &lt;a &amp; b&gt;.npy"}) {
      EXPECT_NE(svg.find(label), std::string::npos) << label;
    }
  }
}

// One Beta(2, 3) component over three samples, with `history` and the result's mean NLL.
std::string small_plot(const std::vector<double>& history, const std::string& title = "",
                       double result_nll = std::numeric_limits<double>::quiet_NaN()) {
  static const std::vector<double> x{0.1, 0.4, 0.6};
  detail::PlotData d;
  d.title = title;
  d.x = x.data();
  d.n = x.size();
  d.params = MixtureParams{{1.0}, {2.0}, {3.0}};
  d.history = history;
  d.result_nll = result_nll;
  return detail::plot_svg(d);
}

// Where the result is not the last point of the history (Adam's best point passed), the panel
// marks the iteration that holds it; where it is the last, or not known, there is no mark.
TEST(PlotSvg, MarksTheResultWhereItIsNotTheLastPoint) {
  const std::vector<double> history{3.0, 2.0, 1.0, 1.5, 1.25};
  const std::string marked = small_plot(history, "", 1.0);
  EXPECT_EQ(xml_problem(marked), "");
  EXPECT_EQ(count(marked, "data-series=\"result-point\""), 1u);
  EXPECT_NE(marked.find(">at iteration 2<"), std::string::npos);
  EXPECT_NE(marked.find(">result 1<"), std::string::npos);
  for (const double last_or_unknown : {1.25, std::numeric_limits<double>::quiet_NaN(), 0.5}) {
    EXPECT_EQ(count(small_plot(history, "", last_or_unknown), "result-point"), 0u)
        << last_or_unknown;
  }
  // Values that agree to eight digits are both written with as many more as tell them apart.
  const std::string close = small_plot({3.0, -0.4324389412, -0.4324389382}, "", -0.4324389412);
  EXPECT_NE(close.find(">final -0.432438938<"), std::string::npos);
  EXPECT_NE(close.find(">result -0.432438941<"), std::string::npos);
}

TEST(PlotSvg, EmptyHistorySaysSo) {
  const std::string svg = small_plot({});
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_NE(svg.find("no iteration history"), std::string::npos);
}

// A file name that is not UTF-8 (Latin-1 bytes, an overlong form, a surrogate) must not make
// the document, declared UTF-8, ill-formed: each bad byte becomes U+FFFD; well-formed 2-, 3-
// and 4-byte characters stay.
TEST(PlotSvg, TitlesAreMadeUtf8) {
  const std::string good = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  const std::string svg = small_plot({1.0}, "u\xFF" + good + "\xC0\xAF|\xED\xA0\x80|\xF4\x90");
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_NE(svg.find("u\xEF\xBF\xBD" + good), std::string::npos);
  EXPECT_NE(svg.find(good + "\xEF\xBF\xBD\xEF\xBF\xBD|"), std::string::npos);        // overlong
  EXPECT_NE(svg.find("|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"), std::string::npos);  // surrogate
  EXPECT_EQ(svg.find('\xFF'), std::string::npos);
  EXPECT_EQ(svg.find("\xED\xA0"), std::string::npos);
  EXPECT_EQ(svg.find("\xF4\x90"), std::string::npos);
}

// A legend for many components stays inside the density panel (y from 70 to 470 at the
// fixed canvas size): the rows that do not fit become one that counts them. All 50 curves are
// still drawn.
TEST(PlotSvg, LegendOfManyComponentsFitsThePanel) {
  static const std::vector<double> x{0.1, 0.4, 0.6};
  detail::PlotData d;
  d.x = x.data();
  d.n = x.size();
  for (int j = 0; j < 50; ++j) {
    d.params.weights.push_back(0.02);
    d.params.alpha.push_back(1.0 + j);
    d.params.beta.push_back(51.0 - j);
  }
  d.history = {1.0};
  const std::string svg = detail::plot_svg(d);
  EXPECT_EQ(xml_problem(svg), "");
  const std::size_t legend = svg.find("<g class=\"legend\"");
  ASSERT_NE(legend, std::string::npos);
  double y = 0.0, height = 0.0;
  ASSERT_EQ(std::sscanf(svg.c_str() + svg.find("y=\"", legend),
                        "y=\"%lf\" width=\"%*f\" height=\"%lf", &y, &height),
            2);
  EXPECT_LE(y + height, 470.0);
  const std::size_t more = svg.find(" more components", legend);
  ASSERT_NE(more, std::string::npos);
  const int listed = 50 - std::atoi(svg.c_str() + svg.rfind("and ", more) + 4);
  EXPECT_GT(listed, 5);
  EXPECT_NE(svg.find(std::to_string(listed) + ": w=", legend), std::string::npos);
  EXPECT_EQ(svg.find(std::to_string(listed + 1) + ": w=", legend), std::string::npos);
  EXPECT_NE(svg.find("data-series=\"component-50\""), std::string::npos) << "every curve is drawn";
}

// A component far narrower than the curve grid (Beta(1e10, 1e10): sd 3.5e-6, the grid's cells
// 1e-3) still shows: a spike that runs off the top of the panel (y below 70), where the regular
// grid alone drew a flat line at 0 (y = 470).
TEST(PlotSvg, NarrowComponentShowsAsASpike) {
  static const std::vector<double> x{0.1, 0.4, 0.6};
  detail::PlotData d;
  d.x = x.data();
  d.n = x.size();
  d.params = MixtureParams{{1.0}, {1e10}, {1e10}};
  d.history = {1.0};
  const std::string svg = detail::plot_svg(d);
  EXPECT_EQ(xml_problem(svg), "");
  const std::size_t at = svg.find("data-series=\"component-1\"");
  ASSERT_NE(at, std::string::npos);
  const std::size_t begin = svg.find("points=\"", at) + 8, end = svg.find('"', begin);
  std::istringstream pts(svg.substr(begin, end - begin));
  double top = 1e9, px = 0.0, py = 0.0;
  char comma = 0;
  while (pts >> px >> comma >> py) top = std::min(top, py);
  EXPECT_LT(top, 70.0);
}

// A history spanning more than the doubles (a hand-edited model) still draws finite
// coordinates: no "nan" or "inf" anywhere in the picture.
TEST(PlotSvg, HugeHistoryStaysFinite) {
  const std::string svg = small_plot({1e308, -1e308, 0.0});
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

}  // namespace
}  // namespace betamix
