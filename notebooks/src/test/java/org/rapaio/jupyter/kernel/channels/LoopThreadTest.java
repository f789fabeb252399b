package org.rapaio.jupyter.kernel.channels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

class LoopThreadTest {

  /** The kernel spec the build wrote (the pom's {@code kernel.dir}, passed on by Surefire). */
  private static final Path KERNEL_DIR =
      Path.of(Objects.requireNonNull(System.getProperty("kernel.dir"), "kernel.dir: set by the notebooks pom"));

  /** With 3.0.1's start(), 22 to 43 of these 500 threads ended before their first run (measured on two cores). */
  @Test
  void everyStartedThreadRunsItsBody() throws Exception {
    int threads = 500;
    CountDownLatch ran = new CountDownLatch(threads);
    LoopThread[] loops = new LoopThread[threads];
    for (int i = 0; i < threads; i++) {
      AtomicInteger runs = new AtomicInteger();
      loops[i] = new LoopThread("loop-" + i, 50, () -> {
        if (runs.getAndIncrement() == 0) {
          ran.countDown();
        }
      });
      loops[i].start();
    }
    boolean all = ran.await(60, TimeUnit.SECONDS);
    for (LoopThread loop : loops) {
      loop.shutdown();
    }
    for (LoopThread loop : loops) {
      loop.join();
    }
    assertTrue(all, ran.getCount() + " of " + threads + " threads ended without running their body");
  }

  @Test
  void aBodyThatThrowsIsReportedAndTheLoopGoesOn() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch third = new CountDownLatch(1);
    LoopThread loop = new LoopThread("loop", 1, () -> {
      int n = runs.incrementAndGet();
      if (n == 1) {
        throw new NullPointerException("no handlers yet");
      }
      if (n == 3) {
        third.countDown();
      }
    });
    AtomicReference<Throwable> reported = new AtomicReference<>();
    loop.setUncaughtExceptionHandler((thread, e) -> reported.set(e));
    loop.start();
    boolean ranOn = third.await(30, TimeUnit.SECONDS);
    loop.shutdown();
    loop.join();
    assertTrue(ranOn, "the loop ended after the body threw; runs " + runs.get());
    assertInstanceOf(NullPointerException.class, reported.get());
  }

  @Test
  void shutdownEndsTheLoop() throws Exception {
    LoopThread loop = new LoopThread("loop", 1, () -> { });
    loop.start();
    loop.shutdown();
    loop.join(TimeUnit.SECONDS.toMillis(30));
    assertFalse(loop.isAlive());
  }

  /** The kernel JVM, started with the spec's classpath, links rapaio's channels to this class, not to the jar's. */
  @Test
  void theKernelSpecsClasspathResolvesTheChannelsToThisClass() throws Exception {
    try (URLClassLoader kernel = loader(kernelClasspath());
         URLClassLoader jar = loader(List.of(KERNEL_DIR.resolve("rapaio-jupyter-kernel.jar")))) {
      Class<?> shell = Class.forName(LoopThread.class.getPackageName() + ".ShellChannel", false, kernel);
      Class<?> linked = shell.getDeclaredField("loopThread").getType();
      assertEquals(LoopThread.class.getName(), linked.getName());
      assertEquals(location(LoopThread.class), location(linked), "where the kernel's LoopThread comes from");

      Class<?> original = Class.forName(LoopThread.class.getName(), false, jar);
      assertEquals(members(original), members(linked), "this class must have the replaced class's members");
      assertEquals(original.getSuperclass(), linked.getSuperclass());
    }
  }

  /** The entries after {@code -cp} in the spec's jvm.args, in order. */
  private static List<Path> kernelClasspath() throws Exception {
    String args = Files.readString(KERNEL_DIR.resolve("jvm.args"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("-cp\\s+\"([^\"]+)\"").matcher(args);
    assertTrue(m.find(), "no -cp in " + KERNEL_DIR.resolve("jvm.args"));
    return Arrays.stream(m.group(1).split(":")).map(Path::of).toList();
  }

  private static URLClassLoader loader(List<Path> entries) throws Exception {
    URL[] urls = new URL[entries.size()];
    for (int i = 0; i < urls.length; i++) {
      urls[i] = entries.get(i).toUri().toURL();
    }
    return new URLClassLoader(urls, ClassLoader.getPlatformClassLoader());
  }

  private static String location(Class<?> c) {
    return c.getProtectionDomain().getCodeSource().getLocation().toString();
  }

  /** Public and protected constructors and declared methods, with their modifiers, as text. */
  private static Set<String> members(Class<?> c) {
    Set<String> members = new TreeSet<>();
    members.add(Modifier.toString(c.getModifiers()) + " class");
    for (Constructor<?> k : c.getDeclaredConstructors()) {
      if (!Modifier.isPrivate(k.getModifiers())) {
        members.add(Modifier.toString(k.getModifiers()) + " <init>" + Arrays.toString(k.getParameterTypes()));
      }
    }
    for (Method method : c.getDeclaredMethods()) {
      if (!Modifier.isPrivate(method.getModifiers()) && !method.isSynthetic()) {
        members.add(Modifier.toString(method.getModifiers()) + " " + method.getReturnType().getName() + " "
            + method.getName() + Arrays.toString(method.getParameterTypes()));
      }
    }
    return members;
  }
}
