/** Prints a measured figure under the running test, where CI's log keeps it. */
export function figure(line: string): void {
    console.log(`      » ${line}`);
}
