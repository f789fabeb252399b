package org.efcp.ml.cluster;

import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;
import java.util.Optional;

/**
 * Entry point of the standalone cluster's daemon JVMs: runs another class's {@code main} and exits this JVM
 * (running its shutdown hooks, so a Worker still kills its executors) as soon as the process that started it
 * is gone. This covers a test JVM that dies without running its own shutdown hooks (SIGKILL, crash).
 *
 * <p>Arguments: {@code parentPid mainClass [mainArgs...]}.
 */
public final class DieWithParent {
  /** Exit status when the parent is gone, as for SIGTERM. */
  static final int PARENT_GONE_STATUS = 143;

  private DieWithParent() {}

  public static void main(String[] args) throws Throwable {
    if (args.length < 2) {
      throw new IllegalArgumentException("args: expected parentPid mainClass [mainArgs...], got " + Arrays.toString(args));
    }
    Optional<ProcessHandle> parent = ProcessHandle.of(Long.parseLong(args[0]));
    if (parent.isEmpty()) {
      System.exit(PARENT_GONE_STATUS);
    }
    parent.get().onExit().thenRun(() -> System.exit(PARENT_GONE_STATUS));
    String[] mainArgs = Arrays.copyOfRange(args, 2, args.length);
    try {
      Class.forName(args[1]).getMethod("main", String[].class).invoke(null, (Object) mainArgs);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
