-- Who wrote each post, by user id: a marketer may change only their own posts (admins
-- any). Earlier posts are matched to their author by the e-mail they recorded. Mirrors
-- migrations/postgres/0008_post_authors.sql.

ALTER TABLE posts ADD COLUMN created_by_id BLOB REFERENCES users (id) ON DELETE SET NULL;
UPDATE posts SET created_by_id = (SELECT u.id FROM users u WHERE u.email = posts.created_by);
