/**
 * tpkernels and JCuda in one process: the project's packaged PTX launched through JCuda's driver API
 * ({@link io.tpkernels.jcuda.JcudaKernels}), JCuda device pointers and tensors wrapped as each other without copies
 * ({@link io.tpkernels.jcuda.JcudaPointers}), and the one primary context both use
 * ({@link io.tpkernels.jcuda.JcudaDevice}).
 *
 * <p><b>Modules.</b> JCuda 12.6.0's jars have neither a module descriptor nor an {@code Automatic-Module-Name}: on
 * the module path they are automatic modules named after their files ({@code jcuda-12.6.0.jar} is {@code jcuda}),
 * a name that changes when the file is renamed and that a descriptor must not depend on (Maven warns against
 * publishing one that does). So this jar has no descriptor either, but a stable name in its manifest,
 * {@code Automatic-Module-Name: io.tpkernels.jcuda}. Keep JCuda on the class path: it reads its JNI library out
 * of the natives jar with {@code Class.getResourceAsStream}, which in a named module looks only inside that module,
 * so on the module path it finds nothing there and needs the jar's {@code lib/} folder extracted and named by
 * {@code -Djava.library.path}. JCuda loads native code: give it {@code --enable-native-access=ALL-UNNAMED}
 * ({@code =jcuda} on the module path).
 */
package io.tpkernels.jcuda;
