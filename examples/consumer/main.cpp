// Samples the two-peak mixture, fits it and prints the fitted weight of the first component.
#include <betamix/betamix.hpp>

#include <cstdio>

int main() {
  const betamix::MixtureParams truth{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};
  const std::vector<double> x = betamix::sample(truth, 20000, 0);
  betamix::FitOptions options;
  options.k = 2;
  options.device = betamix::Device::Cpu;
  const betamix::FitResult r = betamix::fit(x, options);
  std::printf("status %s weight %.2f\n", betamix::to_string(r.status), r.params.weights[0]);
  return r.converged ? 0 : 1;
}
