package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The grammar of token ids (TokenIds): exactly what the help documents is accepted, nothing else. */
class TokenIdsTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "--tokens \"{0}\"")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "0 | 0",
        "1,2,3 | 1 2 3",
        "\"1, 2, 3\" | 1 2 3",
        "\" 1 ,\t2 \" | 1 2",
        "007,10 | 7 10",
        "999999999999999999 | 999999999999999999",
    })
    void theInlineGrammarAccepts(String text, String expected) {
        assertArrayEquals(longs(expected), TokenIds.parse(text));
    }

    @ParameterizedTest(name = "--tokens \"{0}\"")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "+3 | --tokens: token 1 '+3' is not an integer",
        "-3 | --tokens: token 1 '-3' is not an integer",
        "1,,2 | --tokens: token 2 is empty",
        "\"1 2\" | --tokens: token 1 '1 2' is not an integer",
        "1;2 | --tokens: token 1 '1;2' is not an integer",
        "\"1,\" | --tokens: token 2 is empty",
        "\",1\" | --tokens: token 1 is empty",
        "\"1\n2\" | --tokens: token 1 '1<U+000A>2' is not an integer",
        "١٢ | --tokens: token 1 '<U+0661><U+0662>' is not an integer",
        "１ | --tokens: token 1 '<U+FF11>' is not an integer",
        "\"1,\u00a02\" | --tokens: token 2 '<U+00A0>2' is not an integer",
        "0x10 | --tokens: token 1 '0x10' is not an integer",
        "1e3 | --tokens: token 1 '1e3' is not an integer",
        "1.0 | --tokens: token 1 '1.0' is not an integer",
        "1234567890123456789 | --tokens: token 1 '1234567890123456789' is too large",
        "\"  \" | --tokens holds no token ids",
    })
    void theInlineGrammarRejectsNamingTheToken(String text, String expected) {
        var e = assertThrows(IllegalArgumentException.class, () -> TokenIds.parse(text));
        assertTrue(e.getMessage().startsWith(expected), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @ParameterizedTest(name = "file \"{0}\"")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "\"1\n2\n3\n\" | 1 2 3",
        "\"1\r\n2\r\n\" | 1 2",
        "\"1, 2, 3\" | 1 2 3",
        "\"1,2\n3 ,\n4\" | 1 2 3 4",
        "\"\n\n 5 \t 6\n\n\" | 5 6",
    })
    void theFileGrammarAccepts(String text, String expected) throws IOException {
        assertArrayEquals(longs(expected), TokenIds.read(Files.writeString(tmp.resolve("ids.txt"), text)));
    }

    @ParameterizedTest(name = "file \"{0}\"")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "\"1,,2\" | token 2 is empty",
        "\"1,\n,2\" | token 2 is empty",
        "\"1,2,\n\" | token 3 is empty",
        "\",1\" | token 1 is empty",
        "+3 | token 1 '+3' is not an integer",
        "\"1;2\" | token 1 '1;2' is not an integer",
        "\"1\f2\" | character 2 (U+000C) is not a digit, comma or ASCII whitespace",
        "\"\n\t\n\" | holds no token ids",
    })
    void theFileGrammarRejectsNamingTheFileAndToken(String text, String expected) throws IOException {
        Path file = Files.writeString(tmp.resolve("ids.txt"), text);
        var e = assertThrows(IllegalArgumentException.class, () -> TokenIds.read(file));
        assertTrue(e.getMessage().startsWith(file + (expected.startsWith("holds") ? " " : ": ") + expected),
                e.getMessage());
    }

    @Test
    void aNulInAFileIsNamed() throws IOException {
        Path file = Files.write(tmp.resolve("ids.txt"), new byte[] {'1', 0, '2'});
        var e = assertThrows(IllegalArgumentException.class, () -> TokenIds.read(file));
        assertEquals(file + ": character 2 (U+0000) is not a digit, comma or ASCII whitespace", e.getMessage());
    }

    @ParameterizedTest(name = "file of {0}")
    @ValueSource(strings = {"١٢", "\ufeff1,2", "1,\u00a02"})
    void aFileThatIsNotAsciiIsRefusedNamingTheByte(String text) throws IOException {
        Path file = Files.write(tmp.resolve("ids.txt"), text.getBytes(StandardCharsets.UTF_8));
        var e = assertThrows(IllegalArgumentException.class, () -> TokenIds.read(file));
        assertTrue(e.getMessage().startsWith(file + ": byte ") && e.getMessage().contains("is not ASCII"),
                e.getMessage());
    }

    @Test
    void tooManyIdsOrTooLargeAFileAreRefused() throws IOException {
        String many = "1,".repeat(TokenIds.MAX_IDS) + "1";
        var inline = assertThrows(IllegalArgumentException.class, () -> TokenIds.parse(many));
        assertEquals("--tokens holds " + (TokenIds.MAX_IDS + 1) + " token ids, more than " + TokenIds.MAX_IDS,
                inline.getMessage());
        Path big = Files.write(tmp.resolve("big.txt"), new byte[TokenIds.MAX_FILE_BYTES + 1]);
        var file = assertThrows(IllegalArgumentException.class, () -> TokenIds.read(big));
        assertTrue(file.getMessage().startsWith(big + " is larger than "), file.getMessage());
        assertEquals(TokenIds.MAX_IDS, TokenIds.parse("1,".repeat(TokenIds.MAX_IDS - 1) + "1").length);
    }

    @Test
    void forwardRefusesABadListWithExitTwoAndOneLine() {
        Path out = tmp.resolve("out.safetensors");
        for (String tokens : new String[] {"+3", "1,,2", "1 2", "١"}) {
            CliRun run = CliRun.tpk("forward", "--model", tmp.toString(), "--tokens", tokens, "--out", out.toString());
            assertEquals(2, run.exit(), tokens + ": " + run.err());
            assertTrue(run.err().startsWith("tpk forward: --tokens: token "), run.err());
            assertEquals(1, run.err().strip().lines().count(), run.err());
            assertFalse(Files.exists(out));
        }
    }

    private static long[] longs(String spaceSeparated) {
        return Arrays.stream(spaceSeparated.strip().split(" +")).mapToLong(Long::parseLong).toArray();
    }
}
