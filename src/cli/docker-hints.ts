// A docker flag salvo does not take: the error names what salvo does instead.
const HINTS: Record<string, string> = {
  '--rm': 'salvo deletes every container when it exits (its record and logs stay until salvo gc): drop --rm',
  '-p': 'salvo publishes no ports: use --network host',
  '--publish': 'salvo publishes no ports: use --network host',
  '--expose': 'salvo publishes no ports: use --network host',
  '--net': 'use --network none|host',
  '--privileged': 'use --cap-add ALL (devices need a bundle of your own)',
  '--restart': 'salvo does not restart containers: run the job again',
  '--pull': 'salvo pulls nothing: run a local OCI layout with --image oci:DIR[:TAG] (skopeo copy docker://IMAGE oci:DIR:TAG makes one)',
  '--platform': 'salvo runs the image for this machine: --image oci:DIR picks the linux manifest of its architecture',
  '--stop-timeout': 'use --grace (time between SIGTERM and SIGKILL)',
  '--memory-swap': 'salvo sets no swap limit: use -m/--memory',
  '--attach': 'salvo run always streams stdout and stderr',
  '-a': 'salvo run always streams stdout and stderr',
  '--label': 'labels are a job field of salvo batch ("labels": {…})',
  '--cidfile': 'the container id is --name/--id; --exit-code-file writes the exit code',
};

/** A hint for commander's "unknown option '--rm'" message, or ''. */
export function dockerHint(message: string): string {
  const match = /unknown option '([^'=]+)/.exec(message);
  const hint = match === null ? undefined : HINTS[match[1] as string];
  return hint === undefined ? '' : `salvo: ${match?.[1]}: ${hint}\n`;
}
