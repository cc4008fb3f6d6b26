/**
 * Test fixture, run as a separate process (e.g. as an unprivileged user): tries to provision the containerd
 * environment and prints the error message it gets. Exit 0 = it refused with a message, 1 = it provisioned.
 */
import { provisionContainerdTarget } from '../environment.js';

try {
  const target = await provisionContainerdTarget();
  await target.stop();
  process.stdout.write('provisioned\n');
  process.exitCode = 1;
} catch (error) {
  process.stdout.write(`${(error as Error).message}\n`);
}
