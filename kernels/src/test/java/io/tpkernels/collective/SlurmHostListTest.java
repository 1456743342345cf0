package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The first host of Slurm's compressed host lists: where srun places task 0. */
class SlurmHostListTest {

    @Test
    void firstHostKeepsTheZeroPaddingAsWritten() {
        assertEquals("node003", SlurmHostList.first("node[003-010,015],gpu01"));
        assertEquals("a1", SlurmHostList.first("a1,b2"));
        assertEquals("gpu-7", SlurmHostList.first("gpu-[7,9]"));
        assertEquals("localhost", SlurmHostList.first("localhost"));
        assertEquals("n08", SlurmHostList.first("n[08-10]"));
        assertEquals("rack1-n01.ib", SlurmHostList.first("rack[1-2]-n[01-04].ib,login"));
        assertEquals("gpu01", SlurmHostList.first("gpu01,node[003-010]"), "a bracket after the first host is not read");
    }

    @Test
    void whatIsNotAHostListSaysWhy() {
        assertEquals("\"node[1-2\" is not a Slurm host list: a '[' with no ']' after it",
                assertThrows(IllegalArgumentException.class, () -> SlurmHostList.first("node[1-2")).getMessage());
        assertEquals("\"node1]\" is not a Slurm host list: a ']' with no '[' before it",
                assertThrows(IllegalArgumentException.class, () -> SlurmHostList.first("node1]")).getMessage());
        assertEquals("\"node[a-b]\" is not a Slurm host list: \"[a-b]\" does not start with a number or a range of"
                + " numbers",
                assertThrows(IllegalArgumentException.class, () -> SlurmHostList.first("node[a-b]")).getMessage());
        for (String bad : List.of("", ",a", "node[]", "node[-3]", "node[3-]", "a b")) {
            assertThrows(IllegalArgumentException.class, () -> SlurmHostList.first(bad), bad);
        }
    }

    /** A host written in Slurm's syntax, with the host it stands for first. */
    record Host(String written, String first) {
    }

    @Property(tries = 300)
    void theFirstHostIsTheFirstEntryWithEachBracketAtItsLowestWrittenNumber(@ForAll("hosts") Host head,
            @ForAll("hostLists") List<Host> rest) {
        StringBuilder list = new StringBuilder(head.written());
        rest.forEach(h -> list.append(',').append(h.written()));
        assertEquals(head.first(), SlurmHostList.first(list.toString()), list.toString());
    }

    @Provide
    Arbitrary<List<Host>> hostLists() {
        return hosts().list().ofMaxSize(3);
    }

    @Provide
    Arbitrary<Host> hosts() {
        Arbitrary<Host> part = Combinators.combine(brackets(), names().injectNull(0.5))
                .as((b, suffix) -> suffix == null ? b : new Host(b.written() + suffix, b.first() + suffix));
        return Combinators.combine(names(), part.list().ofMaxSize(3)).as((name, parts) -> {
            StringBuilder written = new StringBuilder(name);
            StringBuilder first = new StringBuilder(name);
            parts.forEach(p -> {
                written.append(p.written());
                first.append(p.first());
            });
            return new Host(written.toString(), first.toString());
        });
    }

    private static Arbitrary<String> names() {
        return Arbitraries.strings().withCharRange('a', 'z').withChars("-.0123456789").ofMinLength(1).ofMaxLength(6);
    }

    /** {@code [lo-hi,n,...]}, each number zero-padded to its own width; the first host takes the first low end. */
    private static Arbitrary<Host> brackets() {
        Arbitrary<String> number = Combinators.combine(Arbitraries.integers().between(0, 999),
                Arbitraries.integers().between(1, 4)).as((n, width) -> String.format("%0" + width + "d", n));
        Arbitrary<Host> element = Combinators.combine(number, number.injectNull(0.5))
                .as((low, high) -> new Host(high == null ? low : low + "-" + high, low));
        return element.list().ofMinSize(1).ofMaxSize(3).map(es -> new Host(
                "[" + String.join(",", es.stream().map(Host::written).toList()) + "]", es.get(0).first()));
    }
}
