package io.tpkernels.bench.cases;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotFileTest {

    @TempDir
    Path tmp;

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.sorted().toList();
        }
    }

    @Test
    void theFormatComesFromTheExtensionInAnyCase() {
        assertEquals(PlotFile.Format.png, PlotFile.of(tmp.resolve("a.png")).format());
        assertEquals(PlotFile.Format.svg, PlotFile.of(tmp.resolve("a.b.SVG")).format());
    }

    @Test
    void aWriteReplacesTheFileWhole() throws IOException {
        Path target = Files.writeString(tmp.resolve("r.svg"), "old");
        PlotFile.of(target).write(out -> out.write("<svg/>".getBytes()));
        assertEquals("<svg/>", Files.readString(target));
        assertEquals(List.of(target), files());
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNothingBesideIt() throws IOException {
        Path target = Files.writeString(tmp.resolve("r.png"), "old");
        PlotFile plot = PlotFile.of(target);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plot.write(out -> {
            out.write(new byte[4096]);
            throw new IOException("disk full");
        }));
        assertTrue(e.getMessage().contains(target.toString()) && e.getMessage().contains("disk full"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> plot.write(out -> {
            out.write(new byte[4096]);
            throw new IllegalStateException("no fonts");
        }));
        assertEquals("old", Files.readString(target));
        assertEquals(List.of(target), files());
    }
}
