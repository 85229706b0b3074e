// Side-effect CSS imports (Next bundles them). next-env.d.ts is left out of type checking: its
// global augmentation (a required NODE_ENV on ProcessEnv) breaks the server packages that the
// API's router type pulls in.
declare module "*.css";
