// The SVG picture of a fit (host/plot_svg.cpp): well-formed XML, with the series the issue
// names (histogram, mixture, each component, mean NLL), ticks and labels, for K = 1..3.

#include <gtest/gtest.h>

#include <cctype>
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

// One Beta(2, 3) component over three samples, with `history`.
std::string small_plot(const std::vector<double>& history) {
  static const std::vector<double> x{0.1, 0.4, 0.6};
  detail::PlotData d;
  d.x = x.data();
  d.n = x.size();
  d.params = MixtureParams{{1.0}, {2.0}, {3.0}};
  d.history = history;
  return detail::plot_svg(d);
}

TEST(PlotSvg, EmptyHistorySaysSo) {
  const std::string svg = small_plot({});
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_NE(svg.find("no iteration history"), std::string::npos);
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
