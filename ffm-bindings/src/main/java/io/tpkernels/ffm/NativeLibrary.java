package io.tpkernels.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One loaded (or not loadable) native library. Loading never throws: a library that is missing, or a
 * JVM without native access, yields an instance whose {@link #reason()} says why in one sentence and
 * whose bindings throw {@link NativeLibraryUnavailableException} with that sentence when called.
 * Loaded libraries stay loaded for the life of the process (the global arena), as the driver expects.
 */
public final class NativeLibrary {

    private static final MethodHandle UNAVAILABLE;

    static {
        try {
            UNAVAILABLE = MethodHandles.lookup().findConstructor(NativeLibraryUnavailableException.class,
                    MethodType.methodType(void.class, String.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final LibraryName name;
    private final SymbolLookup lookup;
    private final String location;
    private final String reason;
    private final boolean missing;

    private NativeLibrary(LibraryName name, SymbolLookup lookup, String location, String reason, boolean missing) {
        this.name = name;
        this.lookup = lookup;
        this.location = location;
        this.reason = reason;
        this.missing = missing;
    }

    /**
     * Finds and loads {@code name} with the process environment's search order.
     *
     * @param name the library
     * @return the library, loaded or with the reason it is not; loading never throws
     */
    public static NativeLibrary load(LibraryName name) {
        return load(name, new LibraryLocator());
    }

    /**
     * Finds and loads {@code name}, searching where {@code locator} says (see {@link LibraryLocator}).
     *
     * @param name the library
     * @param locator where to search
     * @return the library, loaded or with the reason it is not; loading never throws
     */
    public static NativeLibrary load(LibraryName name, LibraryLocator locator) {
        List<String> failures = new ArrayList<>();
        Optional<Path> explicit = LibraryLocator.firstIn(locator.explicitFolders(), name);
        if (explicit.isPresent()) {
            NativeLibrary lib = open(name, explicit.get(), failures);
            if (lib != null) {
                return lib;
            }
        }
        // The loader's own search by bare name: finds a system-installed driver through ld.so.cache.
        for (String file : name.fileNames()) {
            try {
                SymbolLookup l = SymbolLookup.libraryLookup(file, Arena.global());
                return new NativeLibrary(name, l, file + " (found by the dynamic loader)", null, false);
            } catch (IllegalArgumentException e) {
                // not known to the loader under this name; try the next
            } catch (IllegalCallerException e) {
                return unavailable(name, nativeAccessDenied());
            }
        }
        Optional<Path> fallback = LibraryLocator.firstIn(locator.fallbackFolders(), name);
        if (fallback.isPresent()) {
            NativeLibrary lib = open(name, fallback.get(), failures);
            if (lib != null) {
                return lib;
            }
        }
        String why = failures.isEmpty()
                ? name.display() + " (" + String.join(" or ", name.fileNames()) + ") was not found; looked in "
                        + locator.describeSearch() + "."
                : name.display() + " was found but could not be loaded: " + String.join("; ", failures) + ".";
        return new NativeLibrary(name, null, null, why, failures.isEmpty());
    }

    private static NativeLibrary open(LibraryName name, Path file, List<String> failures) {
        try {
            return new NativeLibrary(name, SymbolLookup.libraryLookup(file, Arena.global()), file.toString(), null, false);
        } catch (IllegalArgumentException e) {
            failures.add(file + ": " + e.getMessage());
            return null;
        } catch (IllegalCallerException e) {
            failures.add(nativeAccessDenied());
            return null;
        }
    }

    /**
     * An instance standing for a library that could not be loaded, for the given reason.
     *
     * @param name the library
     * @param reason why it is not loaded, one sentence
     * @return an unloaded library whose bindings throw with {@code reason}
     */
    public static NativeLibrary unavailable(LibraryName name, String reason) {
        return new NativeLibrary(name, null, null, reason, false);
    }

    static String nativeAccessDenied() {
        return nativeAccessDenied(NativeLibrary.class.getModule());
    }

    /**
     * The sentence for {@code module} without native access, naming the flag value that grants it: the module's
     * name, or {@code ALL-UNNAMED} on the class path. {@link Module#toString()} already says "module", and says
     * "unnamed module @1a2b3c" on the class path, so the name is spelled out here.
     */
    static String nativeAccessDenied(Module module) {
        return module.isNamed()
                ? "native access is not enabled for module " + module.getName() + ": start the JVM with"
                        + " --enable-native-access=" + module.getName()
                : "native access is not enabled for the class path: start the JVM with"
                        + " --enable-native-access=ALL-UNNAMED";
    }

    /**
     * Whether the library was loaded.
     *
     * @return {@code true} when loaded
     */
    public boolean isLoaded() {
        return lookup != null;
    }

    /**
     * Which library this is.
     *
     * @return the name
     */
    public LibraryName name() {
        return name;
    }

    /**
     * Where it was loaded from (a path, or the bare name the loader resolved), when loaded.
     *
     * @return the location, or empty when not loaded
     */
    public Optional<String> location() {
        return Optional.ofNullable(location);
    }

    /**
     * Why it is not loaded, in one sentence, when not loaded.
     *
     * @return the reason, or empty when loaded
     */
    public Optional<String> reason() {
        return Optional.ofNullable(reason);
    }

    /**
     * Whether no file of the library was found at all (as opposed to found but not loadable).
     *
     * @return {@code true} when nothing was found
     */
    public boolean isMissing() {
        return missing;
    }

    /**
     * Whether the library exports {@code symbol}.
     *
     * @param symbol the exported name
     * @return {@code false} when the library is not loaded or lacks it
     */
    public boolean has(String symbol) {
        return lookup != null && lookup.find(symbol).isPresent();
    }

    /**
     * A downcall handle for {@code function}. When the library or the symbol (and every fallback name)
     * is missing, or native access is denied, the handle has the same type and throws
     * {@link NativeLibraryUnavailableException} naming the cause each time it is called.
     *
     * @param function the function's C prototype
     * @return the handle, of the method type the prototype gives
     */
    public MethodHandle downcall(CFunction function) {
        MethodType type = function.descriptor().toMethodType();
        if (lookup == null) {
            return throwing(type, reason + " (needed for " + function.symbol() + ")");
        }
        Optional<MemorySegment> symbol = lookup.find(function.symbol());
        for (int i = 0; symbol.isEmpty() && i < function.fallbacks().size(); i++) {
            symbol = lookup.find(function.fallbacks().get(i));
        }
        if (symbol.isEmpty()) {
            return throwing(type, name.display() + " at " + location + " does not export " + function.symbol()
                    + "; it is older than this binding needs");
        }
        try {
            return Linker.nativeLinker().downcallHandle(symbol.get(), function.descriptor());
        } catch (IllegalCallerException e) {
            return throwing(type, nativeAccessDenied());
        }
    }

    private static MethodHandle throwing(MethodType type, String message) {
        MethodHandle make = UNAVAILABLE.bindTo(message);
        MethodHandle thrower = MethodHandles.throwException(type.returnType(), NativeLibraryUnavailableException.class);
        MethodHandle noArgs = MethodHandles.collectArguments(thrower, 0, make);
        return MethodHandles.dropArguments(noArgs, 0, type.parameterList());
    }

    @Override
    public String toString() {
        return isLoaded() ? name.display() + " at " + location : name.display() + ": " + reason;
    }
}
