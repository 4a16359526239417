// ENGINEER: read /work/main/packages/prisma/BRIEF.md before anything else (your task brief and the team's rules).
export {};
