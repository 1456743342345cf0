package io.tpkernels.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every Java snippet of the README compiles as written, against the built modules, as a user would paste it: a
 * block that declares a class is a whole source file; any other block is statements with their own imports at its
 * top, compiled as the body of a method. No block may elide code with {@code ...}.
 */
class ReadmeSnippetsTest {
    private static final Pattern BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern CLASS = Pattern.compile("(?m)^(?:public |final )*class (\\w+)");

    /** A snippet and the line of the README where it starts. */
    record Snippet(int line, String code) {
        @Override
        public String toString() {
            return "README.md line " + line;
        }
    }

    static Stream<Snippet> snippets() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        List<Snippet> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(readme);
        while (m.find()) {
            int line = (int) readme.substring(0, m.start()).chars().filter(c -> c == '\n').count() + 1;
            out.add(new Snippet(line, m.group(1)));
        }
        return out.stream();
    }

    @Test
    void theReadmeHasItsSnippets() throws IOException {
        assertTrue(snippets().count() >= 8, "the README's Java snippets were found");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("snippets")
    void compilesAsWritten(Snippet snippet) {
        assertFalse(snippet.code().contains("..."), snippet + " elides code with ...");
        JavaFileObject source = asSource(snippet);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter errors = new StringWriter();
        Path out = Path.of("target", "readme-snippets");
        boolean ok;
        try {
            Files.createDirectories(out);
            ok = javac.getTask(errors, null, null, List.of("-proc:none", "-Xlint:none", "-d", out.toString(),
                    "-classpath", System.getProperty("java.class.path")), null, List.of(source)).call();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        assertTrue(ok, snippet + " does not compile:\n" + errors + "\n" + source);
        assertEquals("", errors.toString().lines().filter(l -> l.contains("error:")).findFirst().orElse(""));
    }

    /** The snippet as a source file: itself when it declares a class, else its statements in a method. */
    private static JavaFileObject asSource(Snippet snippet) {
        Matcher c = CLASS.matcher(snippet.code());
        if (c.find()) {
            return source(c.group(1), snippet.code());
        }
        StringBuilder imports = new StringBuilder();
        StringBuilder body = new StringBuilder();
        for (String l : snippet.code().lines().toList()) {
            (l.startsWith("import ") ? imports : body).append(l).append('\n');
        }
        String name = "ReadmeSnippetAtLine" + snippet.line();
        return source(name, imports + "\nclass " + name + " {\n    void run() throws Exception {\n" + body
                + "    }\n}\n");
    }

    private static JavaFileObject source(String className, String code) {
        return new SimpleJavaFileObject(URI.create("string:///" + className + ".java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return code;
            }

            @Override
            public String toString() {
                return code;
            }
        };
    }
}
