package io.tpkernels.bench.cases;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TableReportTest {

    @Test
    void numbersKeepThreeSignificantDigitsOrTheWholeNumber() {
        assertEquals("0.00412", TableReport.significant(0.0041249));
        assertEquals("2.35", TableReport.significant(2.3456));
        assertEquals("12.3", TableReport.significant(12.34));
        assertEquals("99.9", TableReport.significant(99.91));
        assertEquals("3067", TableReport.significant(3067.4));
        assertEquals("0", TableReport.significant(0));
    }
}
