namespace TokenSpace.Vectors;

/// <summary>One result of a nearest-neighbour query: a key and its score (cosine similarity, or the 3CosMul score).</summary>
public readonly record struct Neighbor(string Key, float Similarity);

/// <summary>How <see cref="KeyedVectors.Distance"/> measures two vectors.</summary>
public enum DistanceMetric
{
    /// <summary>1 − cosine similarity (gensim's <c>distance</c>).</summary>
    Cosine,

    /// <summary>‖a − b‖₂ on the raw (not normalised) vectors.</summary>
    Euclidean,
}
