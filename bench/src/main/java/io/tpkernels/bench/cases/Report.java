package io.tpkernels.bench.cases;

import java.util.ArrayList;
import java.util.List;

/**
 * What one {@code tpk bench} run measured and how: the table, the JSON and the chart are all drawn from it.
 *
 * @param device   the device in words
 * @param method   how runs were timed, in words
 * @param ceilings how the ceilings were measured, in words
 */
record Report(String device, Backend backend, String method, String ceilings, Roofline roofline, List<Result> kernels) {

    Report {
        kernels = List.copyOf(kernels);
    }
}
