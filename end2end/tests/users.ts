// The accounts the set-up journey creates, shared by the specs.
export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery' };
export const MARKETER = { email: 'marketer@example.com', password: 'staple paper clip' };
