// Types of scripts/packaging.mjs for the TypeScript tests.
export declare const TARGETS: readonly string[];
export declare const BUDGET_BYTES: number;
export declare const DEMO_MODEL_DIR: string;
export declare const STATIC_RUNTIME_FILES: readonly string[];
export interface PackageEntry {
  path: string;
  compressedBytes: number;
}
export interface PackageCheck {
  ok: boolean;
  problems: string[];
  missing: string[];
  foreign: string[];
  vsixBytes: number;
  bytesWithoutDemo: number;
}
export declare function assertTarget(target: string): { platform: string; arch: string };
export declare function ortNativeFiles(target: string): string[];
export declare function grammarFiles(): string[];
export declare function demoModelFiles(): string[];
export declare function bareSpecifiers(source: string): string[];
export declare function moduleFiles(root: string): string[];
export declare function requiredFiles(root: string, target: string, options?: { offline?: boolean }): string[];
export declare function ignoreFileFor(root: string, target: string, options?: { offline?: boolean }): string;
export declare function checkPackage(input: {
  target: string;
  entries: PackageEntry[];
  vsixBytes: number;
  required: readonly string[];
  offline?: boolean;
  budgetBytes?: number;
}): PackageCheck;
