//! `ListWatch`: how a reflector lists and watches one resource, without knowing about HTTP.
//!
//! An implementation lists pages and opens watches for one resource, namespace and selector
//! set; the reflector supplies resourceVersion, paging, timeout and bookmark options.
//! [`ApiListWatch`] and [`DynamicListWatch`] go through kinformer-client; [`FakeListWatch`] is
//! the in-memory one for tests: a resource with versions, history and scripted faults.

pub mod client;
pub mod fake;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use kinformer_client::watch::ListEvent;
use kinformer_meta::{ListOptions, ObjectList, WatchEvent};

pub use client::{ApiListWatch, DynamicListWatch};
pub use fake::{FakeListWatch, FakeRequest, FakeVerb};

/// The events of one watch; the stream ends when the server closes the watch.
pub type WatchEventStream<K> = BoxStream<'static, Result<WatchEvent<K>, kinformer_client::Error>>;

/// One list page read as it downloads: every item, then the page's metadata.
pub type ListEventStream<K> = BoxStream<'static, Result<ListEvent<K>, kinformer_client::Error>>;

/// Lists and watches one resource. Object safe: reflectors hold `Arc<dyn ListWatch<K>>`.
pub trait ListWatch<K>: Send + Sync {
    /// Lists one page (or everything, without `limit`) with the given options.
    fn list(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<ObjectList<K>, kinformer_client::Error>>;

    /// Lists one page as a stream of its items, ending with the page's metadata, so the
    /// caller can apply each item while the rest downloads. The default lists the page whole
    /// with [`Self::list`] and streams it from memory.
    fn list_stream(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<ListEventStream<K>, kinformer_client::Error>>
    where
        K: Send + 'static,
    {
        let list = self.list(options);
        async move {
            let ObjectList { metadata, items } = list.await?;
            let items =
                futures::stream::iter(items.into_iter().map(|item| Ok(ListEvent::Item(item))));
            let end = futures::stream::once(async move { Ok(ListEvent::End(metadata)) });
            Ok(items.chain(end).boxed())
        }
        .boxed()
    }

    /// Opens a watch with the given options.
    fn watch(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<WatchEventStream<K>, kinformer_client::Error>>;
}
